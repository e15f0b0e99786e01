#!/usr/bin/env bash
# The wheel job: build the sdist, then the wheel from that sdist (so the sdist is proven complete), check what a
# user would install (manylinux tag, no libtorch/libc10/libpython link, LICENSE, typing files), then install the
# wheel into a fresh venv with no source tree beside it and run the test suite (less tests/integration) against the
# installed package.
# Run by .ci/run after the README's test command; runnable alone: `bash .ci/wheel_check.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# The manylinux tag this toolchain's wheel gets (docs/install.md, where the README's Installation links): the
# check fails if the docs are not true.
EXPECTED_TAG=manylinux_2_34_x86_64
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
step() { echo; echo "=== wheel check: $* ==="; }

step "build the sdist, then the wheel from it"
python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q build==1.6.1 auditwheel==6.8.2 cibuildwheel==4.3.5
"$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$REPO"
SDIST=$(ls "$WORK"/dist/fastcollate-*.tar.gz)
WHEEL=$(ls "$WORK"/dist/fastcollate-*.whl)
ls -l "$WORK/dist"

step "the release matrix in [tool.cibuildwheel] (cibuildwheel validates the config; building needs a container)"
"$WORK/tools/bin/cibuildwheel" --print-build-identifiers --platform linux | tee "$WORK/identifiers.txt"
printf '%s\n' cp31{0,1,2,3}-manylinux_x86_64 cp31{0,1,2,3}-manylinux_aarch64 | diff - "$WORK/identifiers.txt"

step "sdist contents"
tar -tzf "$SDIST" > "$WORK/sdist.txt"
for f in LICENSE README.md pyproject.toml CMakeLists.txt csrc/python/module.cpp fastcollate/__init__.py tests/conftest.py; do
  grep -qx "fastcollate-[^/]*/$f" "$WORK/sdist.txt" || { echo "sdist lacks $f"; exit 1; }
done
echo "sdist: $(wc -l < "$WORK/sdist.txt") entries, LICENSE and the sources included"

step "wheel contents"
"$WORK/tools/bin/python" -m zipfile -l "$WHEEL" | awk '{print $1}' > "$WORK/wheel.txt"
for pattern in 'fastcollate-[^/]*\.dist-info/licenses/LICENSE' 'fastcollate/py\.typed' \
               'fastcollate/_core/'{__init__,runtime,rolespan,delay,higgs_boson,higgs_hf}'\.pyi' \
               'fastcollate/_core\.cpython-[^/]*\.so'; do
  grep -qx "$pattern" "$WORK/wheel.txt" || { echo "wheel lacks $pattern"; cat "$WORK/wheel.txt"; exit 1; }
done
if grep -qx "fastcollate/_core/__init__\.py" "$WORK/wheel.txt"; then
  echo "wheel has fastcollate/_core/__init__.py: it would shadow the extension"; exit 1
fi
# One package per capability (fastcollate/<capability>/__init__.py), the ops facade among them.
for part in common runtime delay rolespan higgs_boson higgs_hf diagnostics ops; do
  grep -qx "fastcollate/$part/__init__\.py" "$WORK/wheel.txt" || { echo "wheel lacks fastcollate/$part"; exit 1; }
done
echo "wheel: LICENSE, py.typed, the _core stubs (one per submodule), the extension and every capability's package included"

step "auditwheel show"
"$WORK/tools/bin/auditwheel" show "$WHEEL" | tee "$WORK/auditwheel.txt"
TAG=$(tr '\n' ' ' < "$WORK/auditwheel.txt" | grep -o 'consistent with the following platform tag: *"[^"]*"' | grep -o '"[^"]*"' | tr -d '"')
echo "manylinux tag: $TAG"
[ "$TAG" = "$EXPECTED_TAG" ] || { echo "expected $EXPECTED_TAG (update it here and in docs/install.md)"; exit 1; }
grep -q "$TAG" docs/install.md || { echo "docs/install.md does not state the tag $TAG"; exit 1; }

step "readelf: what the extension links"
mkdir "$WORK/unzipped"
"$WORK/tools/bin/python" -m zipfile -e "$WHEEL" "$WORK/unzipped"
SO=$(ls "$WORK"/unzipped/fastcollate/_core.cpython-*.so)
readelf -d "$SO" | grep NEEDED | tee "$WORK/needed.txt"
if grep -Ei 'libtorch|libc10|libpython' "$WORK/needed.txt"; then
  echo "the extension links libtorch, libc10 or libpython: it must not (one wheel for every torch version)"
  exit 1
fi

step "install the wheel into a fresh venv (no source tree beside it)"
python3 -m venv "$WORK/venv"
. "$WORK/venv/bin/activate"
pip install -q torch==2.13.0
pip install -q --no-deps boson-multimodal==0.1.1
pip install -q "$WHEEL[test]"  # prints "boson-multimodal 0.1.1 requires ...": expected, see the README
mkdir "$WORK/run"
cp -r tests README.md docs pyproject.toml "$WORK/run/"  # the suite, the documentation it tests, pytest's config
mkdir "$WORK/run/benchmarks" && cp benchmarks/*.py "$WORK/run/benchmarks/"  # batch builders some tests share
cd "$WORK/run"
fastcollate info | tee "$WORK/info.txt"
grep -q "^  cpu     available (compiled extension" "$WORK/info.txt"
python -c "import fastcollate, sys; p = fastcollate.__file__; sys.exit(0 if '/site-packages/' in p else f'imported from {p}')"

step "the test suite against the installed wheel"
# tests/integration (Trainer, torchrun, DataLoader workers, torch.compile on tiny models) ran against the same
# sources in the README's test command; what they test is the frameworks' use of the package, not the wheel's
# contents, which every other test imports and calls.
CI=true pytest -p no:cacheprovider -q --ignore=tests/integration
