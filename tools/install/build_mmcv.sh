#!/usr/bin/env bash
# Build an mmcv wheel with its compiled ops from the source release (DESIGN.md §5).
#   build_mmcv.sh PYTHON SDIST.tar.gz OUT_DIR LOG
# PYTHON's environment must already hold torch, setuptools<81, wheel, ninja. The CUDA
# ops are built too when FORCE_CUDA=1 (TORCH_CUDA_ARCH_LIST picks the GPUs). Shared by
# tools/install/setup_env.sh (CPU, cached wheel) and tools/gpu/benchmark.sh.
set -euo pipefail
PY="$1"; SDIST="$2"; OUT="$3"; LOG="$4"
BUILD=$(mktemp -d)
tar -xzf "$SDIST" -C "$BUILD"
SRC=$(ls -d "$BUILD"/mmcv-*/)
# torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes -std=c++17.
sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py"
mkdir -p "$OUT"
# --no-build-isolation: the build must see the installed torch (else the ops are
# silently left out) and setuptools<81 (mmcv's setup.py imports pkg_resources).
(cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$PY" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps \
    -w "$BUILD/dist" .) >"$LOG" 2>&1 || { tail -40 "$LOG"; rm -rf "$BUILD"; exit 1; }
mv "$BUILD"/dist/mmcv-*.whl "$OUT/"
rm -rf "$BUILD"
