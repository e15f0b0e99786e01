#!/usr/bin/env bash
# TRL 0.19.1 as a peer, in its own venv (TRL needs transformers >= 4.51; the upstream Higgs reference pins
# 4.46.3). Builds this checkout of fastcollate there too, so both collators are timed in one run.
#   bash benchmarks/peers/run_trl.sh            (about 2 minutes the first time, then seconds)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/benchmarks/peers/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q trl==0.19.1 transformers==4.53.3 accelerate==1.8.1 datasets==3.6.0 \
    pytest pytest-benchmark scikit-build-core pybind11 ninja cmake
fi
"$venv/bin/pip" install -q --no-build-isolation "$root"
# From outside the checkout, so that Python imports the installed package (with its compiled extension),
# not the source tree.
cd "$(mktemp -d)"
"$venv/bin/pytest" "$root/benchmarks/peers/test_bench_trl.py" --benchmark-enable -p no:cacheprovider \
  -W "ignore::DeprecationWarning" -W "ignore::FutureWarning" "$@"
