#!/usr/bin/env bash
# The transformers reference of HiggsAudioV2Collator in its own venv, then its tests there.
#
# transformers 5.x holds HiggsAudioV2Processor / HiggsAudioV2ForConditionalGeneration; the main venv pins
# transformers 4.46.3 for boson-multimodal, so this venv has torch (pinned: an unpinned one pulls a multi-GB
# CUDA build), transformers 5.23.0, the test tools and this checkout of fastcollate, built in its own build
# directory (the main venv's build cache points at another pybind11).
#   bash tests/higgs_hf/transformers/setup_venv.sh                     the tests (.ci/run runs this)
#   bash tests/higgs_hf/transformers/setup_venv.sh --setup-only        only create/update the venv
# The venv is tests/higgs_hf/transformers/.venv (reused when it exists); extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
venv="$root/tests/higgs_hf/transformers/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q transformers==5.23.0 tokenizers==0.23.3 huggingface-hub==2.4.0 \
    accelerate==1.16.0 pytest pytest-benchmark "hypothesis>=6.100" scikit-build-core pybind11 ninja cmake
fi
# The CPU build only: these tests compare the CPU path with transformers, and the CUDA kernels are built and
# checked by the main install and the wheel job (compiling them again here cost CI minutes).
FASTCOLLATE_CUDA="${FASTCOLLATE_CUDA:-OFF}" \
  "$venv/bin/pip" install -q --no-build-isolation -C build-dir="$root/build/higgs_hf" "$root"
if [ "${1:-}" = "--setup-only" ]; then exit 0; fi
# From outside the checkout, so that Python imports the installed package (with its compiled extension),
# not the source tree.
cd "$(mktemp -d)"
"$venv/bin/pytest" "$root/tests/higgs_hf/transformers" -p no:cacheprovider "$@"
