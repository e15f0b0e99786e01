#!/usr/bin/env bash
# By hand, on a machine with a GPU, CUDA torch, transformers, nvcc, scikit-build-core and pybind11 (CI has no GPU):
# builds the wheel with FASTCOLLATE_CUDA=AUTO, installs it into a folder put first on PYTHONPATH beside
# python3's own packages (its torch; a venv would not see a torch installed outside site-packages), shows
# `fastcollate info` there, then runs .ci/gpu_check.py outside the source tree.
set -euxo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
nvidia-smi -L
FASTCOLLATE_CUDA=AUTO python3 -m pip wheel --no-build-isolation --no-deps -q -w "$WORK/dist" .
python3 -m pip install -q --no-deps --no-index --target "$WORK/site" "$WORK"/dist/fastcollate-*.whl
readelf -d "$WORK"/site/fastcollate/_core*.so | grep NEEDED
cp .ci/gpu_check.py "$WORK/"
cd "$WORK"
export PYTHONPATH="$WORK/site"
python3 -m fastcollate info
PYTHONUNBUFFERED=1 python3 gpu_check.py
