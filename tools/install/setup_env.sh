#!/usr/bin/env bash
# Create or reuse .venv/ with the pinned OpenMMLab + Hugging Face stack.
#
# Called by `make test` and `make demo`; safe to run again (a second run checks a stamp
# and returns in seconds). mmcv 2.1.0 has no wheel for torch 2.14, so it is built from
# its source release with the fixes listed in DESIGN.md §5, and the wheel is cached in
# ${VLBERT_CACHE:-~/.cache/vlbert_e2e}/wheels/<key>/ so another clone skips the compile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
MMCV_VERSION="2.1.0"
CACHE="${VLBERT_CACHE:-$HOME/.cache/vlbert_e2e}"
STEP="start"

fail() {
    echo "" >&2
    echo "setup_env: FAILED during step: $STEP" >&2
    case "$STEP" in
        python) echo "  fix: install Python 3.11 with venv (e.g. apt-get install python3.11-venv) or set PYTHON=/path/to/python3.11" >&2 ;;
        compiler) echo "  fix: install a C++ compiler (e.g. apt-get install build-essential) and retry" >&2 ;;
        mmcv-build) echo "  fix: read the compiler output above; a full log is in $CACHE/mmcv-build.log. Remove $VENV and retry after fixing." >&2 ;;
        *) echo "  fix: read the pip output above (network to PyPI needed for the first install); remove $VENV to start clean." >&2 ;;
    esac
    exit 1
}
trap fail ERR

STEP="browser"
# tests/test_webui.py drives Debian's headless Chromium through chromedriver. Checked on
# every run (two file tests), so a machine that lost them gets them back.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "setup_env: installing chromium and chromium-driver (apt) for the browser test"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            chromium chromium-driver >/dev/null; } \
            || echo "setup_env: apt-get could not install chromium; tests/test_webui.py will fail"
    else
        echo "setup_env: the browser test needs Chromium: sudo apt-get install -y chromium chromium-driver"
    fi
fi

STAMP_SRC=$(cat "$ROOT/requirements.txt" "$ROOT/setup.py" "$ROOT/tools/install/setup_env.sh" \
    "$ROOT/tools/install/build_mmcv.sh" | sha256sum | cut -c1-16)
STAMP_FILE="$VENV/.vlbert_setup_stamp"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP_SRC" ]]; then
    echo "setup_env: $VENV is up to date (stamp $STAMP_SRC)"
    exit 0
fi

STEP="python"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "setup_env: Python 3.11 is required, $PYTHON is $("$PYTHON" --version)"; false; }
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "setup_env: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

STEP="build-tools"
# mmcv's setup.py and mmengine import pkg_resources, gone from setuptools 81; torch needs
# >= 77.0.3. The constraint file keeps later installs from upgrading it.
CONSTRAINTS="$VENV/vlbert-constraints.txt"
echo "setuptools>=77.0.3,<81" >"$CONSTRAINTS"
"${PIP[@]}" install -q "pip>=24"
"${PIP[@]}" install -q -c "$CONSTRAINTS" "setuptools>=77.0.3,<81" wheel ninja psutil

STEP="torch"
TORCH_PIN=$(grep -E '^torch==' "$ROOT/requirements.txt")
TV_PIN=$(grep -E '^torchvision==' "$ROOT/requirements.txt")
"${PIP[@]}" install -q -c "$CONSTRAINTS" "$TORCH_PIN" "$TV_PIN"

STEP="mmcv"
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'; mmcv.ops.get_compiler_version()" 2>/dev/null; then
    CUDA_TAG="cpu"
    if [[ "${FORCE_CUDA:-0}" == "1" ]] && command -v nvcc >/dev/null 2>&1; then
        CUDA_TAG="cu$(nvcc --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1\2/p')-${TORCH_CUDA_ARCH_LIST:-default}"
        CUDA_TAG="${CUDA_TAG// /_}"
    fi
    TORCH_VER=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
    PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VER-$PY_TAG-$CUDA_TAG"
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        STEP="compiler"
        command -v "${CXX:-g++}" >/dev/null 2>&1 || { echo "setup_env: no C++ compiler found"; false; }
        STEP="mmcv-build"
        echo "setup_env: building mmcv $MMCV_VERSION from source ($CUDA_TAG); about 12 min on 2 cores"
        BUILD=$(mktemp -d)
        # --no-build-isolation: mmcv's setup.py imports pkg_resources (setuptools<81, in the venv)
        "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: \
            "mmcv==$MMCV_VERSION" -d "$BUILD"
        mkdir -p "$CACHE"
        bash "$ROOT/tools/install/build_mmcv.sh" "$PY" "$BUILD/mmcv-$MMCV_VERSION.tar.gz" \
            "$WHEEL_DIR" "$CACHE/mmcv-build.log"
        rm -rf "$BUILD"
    else
        echo "setup_env: reusing cached mmcv wheel from $WHEEL_DIR"
    fi
    STEP="mmcv"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
fi

STEP="requirements"
"${PIP[@]}" install -q -c "$CONSTRAINTS" -r "$ROOT/requirements.txt"
# mmcv's own runtime deps (we installed it with --no-deps)
"${PIP[@]}" install -q -c "$CONSTRAINTS" addict packaging Pillow pyyaml yapf

STEP="package"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

STEP="verify"
"$PY" - <<'EOF'
import pkg_resources  # noqa: F401 (mmengine needs it: setuptools<81)
import mmcv, mmdet, mmengine, torch, transformers
from mmcv.ops import RoIAlign, nms, get_compiler_version
print(f"setup_env: torch {torch.__version__}, mmcv {mmcv.__version__} "
      f"(ops compiled with {get_compiler_version()}), mmdet {mmdet.__version__}, "
      f"mmengine {mmengine.__version__}, transformers {transformers.__version__}")
EOF
echo "$STAMP_SRC" >"$STAMP_FILE"
echo "setup_env: done"
