# The two commands of the README. Each creates/reuses .venv/ (tools/install/setup_env.sh).
PY := .venv/bin/python
TINY_CFG := configs/vlbert/vlbert-tiny_faster-rcnn-r18-c4_1xb4-30i_cc-text-fixture.py
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup test demo lint clean-venv

setup:
	@bash tools/install/setup_env.sh

test: setup
	$(PY) -m pytest tests -q -p no:cacheprovider

# Until the demo issue lands: trains the smallest config for a few iterations.
demo: setup
	@echo "make demo: placeholder until the shapes demo lands -- training the tiny"
	@echo "fixture config ($(TINY_CFG)) for 30 iterations on CPU."
	$(PY) tools/train.py $(TINY_CFG) --work-dir work_dirs/demo_tiny
	@echo "make demo: checkpoints and logs are in work_dirs/demo_tiny/"

lint: setup
	$(PY) -m pip install -q ruff && $(PY) -m ruff check vlbert_e2e tools tests configs

clean-venv:
	rm -rf .venv
