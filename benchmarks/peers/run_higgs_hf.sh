#!/usr/bin/env bash
# transformers 5.23's HiggsAudioV2Processor as a peer, in the venv of tests/higgs_hf/transformers/setup_venv.sh (created
# there if missing, with this checkout of fastcollate built in), so processor and collator are timed in one run.
#   bash benchmarks/peers/run_higgs_hf.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/tests/higgs_hf/transformers/setup_venv.sh" --setup-only
# From outside the checkout, so that Python imports the installed package (with its compiled extension).
cd "$(mktemp -d)"
"$root/tests/higgs_hf/transformers/.venv/bin/pytest" "$root/benchmarks/peers/test_bench_higgs_hf_processor.py" --benchmark-enable \
  -p no:cacheprovider -W "ignore::DeprecationWarning" -W "ignore::FutureWarning" "$@"
