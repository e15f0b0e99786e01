#!/usr/bin/env bash
# Every benchmark in one command: the main suite (this venv), then the TRL peer in its own venv
# (benchmarks/peers/run_trl.sh) and transformers 5.x's Higgs Audio v2 processor in its own
# (benchmarks/peers/run_higgs_hf.sh). Run from the repository root with the test venv active.
set -euo pipefail
cd "$(dirname "$0")/.."
pytest benchmarks --benchmark-enable -p no:cacheprovider "$@"
bash benchmarks/peers/run_trl.sh
bash benchmarks/peers/run_higgs_hf.sh
