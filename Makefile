# The two commands of the README. Each creates/reuses .venv/ (tools/install/setup_env.sh).
PY := .venv/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup test demo webui lint clean-venv

setup:
	@bash tools/install/setup_env.sh

# 2 worker processes of 1 thread each (the 2-core machine); a test file stays on one
# worker (--dist loadfile), so its module-scoped fixtures are built once
test: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -q -p no:cacheprovider -n 2 --dist loadfile

# Shapes data -> pretraining -> fine-tuning (load_from) -> evaluation -> pictures, curves ->
# summary (offline), with the ablation recorded in docs/demo_ablation.json (fine-tuning from
# scratch as long: tools/run_demo.py --ablation, or --ablation-only after a make demo)
demo: setup
	$(PY) tools/run_demo.py

# The web page (tools/webui.py) on the demo's model; trains it first (make demo) if absent.
DEMO_CFG := configs/demo/vlbert-minilm-l3_faster-rcnn-r18-c4_1xb32-600i_shapes.py
DEMO_LAST := work_dirs/demo/last_checkpoint
HOST ?= 127.0.0.1
PORT ?= 7860
webui: setup
	@test -f "$$(cat $(DEMO_LAST) 2>/dev/null)" || $(PY) tools/run_demo.py
	$(PY) tools/webui.py --config $(DEMO_CFG) --checkpoint "$$(cat $(DEMO_LAST))" \
		--host $(HOST) --port $(PORT)

lint: setup
	$(PY) -m pip install -q ruff && $(PY) -m ruff check vlbert_e2e tools tests

clean-venv:
	rm -rf .venv
