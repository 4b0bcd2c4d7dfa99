#!/usr/bin/env bash
# The benchmark suite on a fresh NVIDIA machine with PyTorch preinstalled, offline.
#   bash tools/gpu/benchmark.sh [WHEELHOUSE] [OUT_DIR]
# WHEELHOUSE (default work_dirs/gpu_wheels) comes from tools/gpu/prepare_wheels.sh.
# Steps: check the GPU; a venv on top of the system torch; install the carried wheels
# (no index); build mmcv's CUDA ops for this GPU only (TORCH_CUDA_ARCH_LIST from the
# device, MAX_JOBS = cores); run tools/analysis_tools/benchmark.py --suite in bf16 and
# fp32; results in OUT_DIR (default ${OUT:-work_dirs/gpu_benchmark}).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WH="${1:-$ROOT/work_dirs/gpu_wheels}"
OUT_DIR="${2:-${OUT:-$ROOT/work_dirs/gpu_benchmark}}"
SYS_PY="${PYTHON:-python3}"
VENV="${GPU_VENV:-/tmp/vlbert_gpu_venv}"
t0=$(date +%s)
say() { echo "[gpu-benchmark $(( $(date +%s) - t0 ))s] $*"; }

ARCH=$("$SYS_PY" -c 'import torch
assert torch.cuda.is_available()
print("%d.%d" % torch.cuda.get_device_capability())' 2>/dev/null) \
    || { echo "gpu/benchmark.sh: no CUDA GPU visible to PyTorch ($SYS_PY)" >&2; exit 2; }
[[ -f "$WH/requirements-gpu.txt" ]] \
    || { echo "gpu/benchmark.sh: no wheelhouse at $WH (run tools/gpu/prepare_wheels.sh)" >&2; exit 2; }
command -v nvcc >/dev/null || [[ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]] \
    || { echo "gpu/benchmark.sh: nvcc not found (set CUDA_HOME)" >&2; exit 2; }
export PATH="${CUDA_HOME:-/usr/local/cuda}/bin:$PATH"
export TORCH_CUDA_ARCH_LIST="$ARCH" MAX_JOBS="$(nproc)" FORCE_CUDA=1
say "GPU arch $ARCH, $(nproc) cores, $("$SYS_PY" -c 'import torch; print(torch.__version__)')"

"$SYS_PY" -m venv --system-site-packages "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check install -q --no-index --find-links "$WH")
"${PIP[@]}" -r "$WH/requirements-gpu.txt"
say "wheels installed"
bash "$ROOT/tools/install/build_mmcv.sh" "$PY" "$(ls "$WH"/mmcv-*.tar.gz)" "$VENV/mmcv" \
    "$VENV/mmcv-build.log"
"${PIP[@]}" --no-deps "$VENV"/mmcv/mmcv-*.whl
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c 'import torch; from mmcv.ops import roi_align; x = torch.rand(1, 4, 8, 8, device="cuda")
print("mmcv CUDA RoIAlign ok:", roi_align(x, torch.tensor([[0, 0, 0, 4, 4.]], device="cuda"), 2).shape)'
say "mmcv built for sm_$ARCH"

mkdir -p "$OUT_DIR"
cd "$ROOT"
HF_HUB_OFFLINE=1 "$PY" tools/analysis_tools/benchmark.py --suite --device cuda \
    --dtypes bf16 fp32 --tokenizer "$WH/tokenizer" --json "$OUT_DIR/benchmark_gpu.json" \
    | tee "$OUT_DIR/benchmark_gpu.md"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$OUT_DIR/gpu.csv"
say "done: $OUT_DIR/benchmark_gpu.json"
