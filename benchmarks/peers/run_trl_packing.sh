#!/usr/bin/env bash
# TRL 1.16's pack_dataset(strategy="bfd") as a peer of fastcollate.plan_packs, in its own venv (TRL 1.16 needs
# transformers 5.x). Builds this checkout of fastcollate there too, so both are timed in one run.
#   bash benchmarks/peers/run_trl_packing.sh     (a few minutes the first time, then seconds)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/benchmarks/peers/.venv-trl-packing"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q trl==1.16.0 datasets numpy pytest pytest-benchmark scikit-build-core pybind11 ninja cmake
fi
FASTCOLLATE_CUDA=OFF "$venv/bin/pip" install -q --no-build-isolation "$root"
# From outside the checkout, so that Python imports the installed package (with its compiled extension).
cd "$(mktemp -d)"
"$venv/bin/pytest" "$root/benchmarks/peers/test_bench_trl_packing.py" --benchmark-enable -p no:cacheprovider \
  -W "ignore::DeprecationWarning" -W "ignore::FutureWarning" "$@"
