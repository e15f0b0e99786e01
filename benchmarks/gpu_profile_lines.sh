#!/usr/bin/env bash
# Where a kernel spends its instructions, line by line: builds fastcollate with -lineinfo, profiles one
# launch of benchmarks/gpu_profile_case.py with Nsight Compute's source counters, and writes the per-SASS
# instruction table (CSV, with the CUDA source line of each) and a summary of the hottest source lines.
#   OUT=dir [SITE=dir] bash benchmarks/gpu_profile_lines.sh [KERNEL_REGEX [LAUNCH_SKIP]]
# SITE: a fastcollate already installed there, built with CUDAFLAGS=-lineinfo (no build then).
# Default: the first block_kernel launch of the case (role_span_labels (512, 4096), no mask).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=${OUT:-/tmp/fastcollate-lines}
mkdir -p "$out"
kernel=${1:-block_kernel}
skip=${2:-0}
for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [[ -x "$dir/nvcc" ]] && PATH="$dir:$PATH" && break; done
ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /usr/local/cuda*/nsight-compute*/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -n 1)
[[ -n "$ncu" ]] || { echo "ncu not found"; exit 2; }
work=/tmp/fastcollate-lines
rm -rf "$work" && mkdir -p "$work/site"
if [[ -n "${SITE:-}" ]]; then  # a build made with CUDAFLAGS=-lineinfo already (e.g. gpu_check.sh's)
  export PYTHONPATH="$SITE"
else
  CUDAFLAGS=-lineinfo FASTCOLLATE_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) timeout 300 python3 -m pip install \
    --no-build-isolation --no-deps --no-index --target "$work/site" . >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log"; exit 1; }
  echo "built"
  export PYTHONPATH="$work/site"
fi
(cd /tmp && timeout 200 "$ncu" --profile-from-start off -k "regex:$kernel" --launch-skip "$skip" --launch-count 1 \
  --section SourceCounters --section InstructionStats --section WarpStateStats --import-source yes \
  -o "$work/report" -f python3 "$repo/benchmarks/gpu_profile_case.py") >"$out/ncu_run.txt" 2>&1 || tail -n 20 "$out/ncu_run.txt"
"$ncu" --import "$work/report.ncu-rep" --print-details all >"$out/details.txt" 2>&1 || true
for src in "cuda,sass" sass; do
  if "$ncu" --import "$work/report.ncu-rep" --page source --csv --print-source "$src" >"$out/source.csv" 2>"$out/source_err.txt"; then
    echo "source page: $src ($(wc -l <"$out/source.csv") lines)"
    break
  fi
  cat "$out/source_err.txt"
done
python3 - "$out/source.csv" <<'PY' | tee "$out/hot_lines.txt"
import csv, sys, collections
rows = list(csv.reader(open(sys.argv[1], errors="replace")))
if not rows:
    sys.exit("empty source page")
# The header row: the first one naming an instruction count.
h = next(i for i, r in enumerate(rows) if any("Instructions Executed" in c for c in r))
head = rows[h]
print("columns:", head)
col = next(i for i, c in enumerate(head) if c.startswith("Instructions Executed"))
src = next((i for i, c in enumerate(head) if c in ("Source", "Address Source", "# Address")), None)
total = 0
by_line = collections.Counter()
body = [r for r in rows[h + 1:] if len(r) > col]
def num(v):
    try:
        return float(v.replace(",", ""))
    except ValueError:
        return 0.0
for r in body:
    total += num(r[col])
print("instructions executed (warp level):", total)
top = sorted(body, key=lambda r: -num(r[col]))[:80]
for r in top:
    print(f"{num(r[col]):>14,.0f}  " + " | ".join(c[:120] for c in r if c)[:400])
PY
