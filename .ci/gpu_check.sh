#!/usr/bin/env bash
# By hand, on a machine with a GPU, CUDA torch, transformers, nvcc, scikit-build-core and pybind11 (CI has no GPU):
# builds the wheel with FASTCOLLATE_CUDA=AUTO, installs it into a venv that sees the system's torch, shows
# `fastcollate info` there, then runs .ci/gpu_check.py outside the source tree.
set -euxo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
nvidia-smi -L
FASTCOLLATE_CUDA=AUTO python3 -m pip wheel --no-build-isolation --no-deps -q -w "$WORK/dist" .
python3 -m venv --system-site-packages "$WORK/venv"
"$WORK/venv/bin/pip" install -q --no-deps --no-index "$WORK"/dist/fastcollate-*.whl
readelf -d "$WORK"/venv/lib/python3*/site-packages/fastcollate/_core*.so | grep NEEDED
cp .ci/gpu_check.py "$WORK/"
cd "$WORK"
"$WORK/venv/bin/fastcollate" info
PYTHONUNBUFFERED=1 "$WORK/venv/bin/python" gpu_check.py
