#!/usr/bin/env bash
# The native code under AddressSanitizer + UndefinedBehaviorSanitizer, in a Python host: builds the extension
# with FASTCOLLATE_SANITIZE=ON into its own folder (the installed package is left alone), puts a copy of the
# Python package with that build first on PYTHONPATH, preloads the sanitizer runtimes (Python itself is not
# instrumented) and runs the given pytest arguments (default: the hardening tests and the fuzzers).
#   .ci/sanitize.sh [pytest args...]        (with the test venv active; needs cmake, ninja, pybind11 in it)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/sanitize"
stage="$build/python"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTCOLLATE_SANITIZE=ON -DFASTCOLLATE_CUDA=OFF \
  -DSKBUILD_PROJECT_NAME=fastcollate -DSKBUILD_PROJECT_VERSION="$(python -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$root/pyproject.toml")" \
  -DPython_EXECUTABLE="$(command -v python)" -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" > "$build.log" 2>&1 \
  || { cat "$build.log"; exit 1; }
cmake --build "$build" > "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
rm -rf "$stage" && mkdir -p "$stage"
cp -r "$root/fastcollate" "$stage/"
find "$stage" -name '_core*.so' -delete
cp "$build"/_core*.so "$stage/fastcollate/"
# An editable install redirects `import fastcollate` to the source tree from a meta-path finder that runs
# before PYTHONPATH is searched: drop it in this process tree (sitecustomize runs after the .pth files).
cat > "$stage/sitecustomize.py" <<'PY'
import sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable_skbc_")]
PY

export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
# Leaks: CPython and torch keep allocations until exit on purpose. halt_on_error: the first report fails the run.
# allocator_may_return_null: an oversized allocation fails as it does in the normal build (a RuntimeError the
# tests expect) instead of aborting the run.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export PYTHONPATH="$stage${PYTHONPATH:+:$PYTHONPATH}"
cd "$build"  # not the checkout: its source tree would shadow the staged package
python - <<'PY'
import fastcollate, os, sys
where = os.path.dirname(fastcollate.__file__)
assert where.startswith(os.environ["PYTHONPATH"].split(":")[0]), f"imported {where}, not the sanitized build"
assert fastcollate.backend_info()["compiled"], fastcollate.backend_info()
print(f"sanitized build imported from {where}")
PY
if [ "$#" -eq 0 ]; then  # CI's time-boxed subset: regressions, fuzzers, compiled-vs-twin equivalence
  set -- tests/common/test_hardening_regressions.py tests/fuzz/test_fuzz_native.py \
    tests/rolespan/test_rolespan_equivalence.py tests/delay/test_delay_equivalence.py \
    tests/higgs_boson/test_higgs_boson_backends_equal.py tests/common/test_input_forms.py \
    tests/rolespan/test_arrow_input.py tests/runtime/test_output_tensors.py tests/common/test_hostile_inputs.py \
    tests/common/test_hostile_tensors.py tests/fuzz/test_fuzz_hostile.py
fi
args=()
for a in "$@"; do [[ "$a" == tests || "$a" == tests/* ]] && args+=("$root/$a") || args+=("$a"); done
pytest -p no:cacheprovider --rootdir "$root" -c "$root/pyproject.toml" -q "${args[@]}"
