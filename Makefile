# The two commands of the README. Each creates/reuses .venv/ (tools/install/setup_env.sh).
PY := .venv/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup test demo lint clean-venv

setup:
	@bash tools/install/setup_env.sh

test: setup
	$(PY) -m pytest tests -q -p no:cacheprovider

# Shapes data -> joint training -> evaluation -> demo on raw images -> summary (offline).
demo: setup
	$(PY) tools/run_demo.py

lint: setup
	$(PY) -m pip install -q ruff && $(PY) -m ruff check vlbert_e2e tools tests

clean-venv:
	rm -rf .venv
