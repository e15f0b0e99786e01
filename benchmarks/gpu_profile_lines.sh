#!/usr/bin/env bash
# Where a kernel spends its instructions, line by line: builds fastcollate with -lineinfo, profiles one
# launch of benchmarks/gpu_profile_case.py with Nsight Compute's source counters, and writes the per-SASS
# instruction table (CSV, with the CUDA source line of each) and a summary of the hottest source lines.
#   OUT=dir [SITE=dir] bash benchmarks/gpu_profile_lines.sh [KERNEL_REGEX [LAUNCH_SKIP]]
# SITE: a fastcollate already installed there, built with CUDAFLAGS=-lineinfo (no build then).
# Default: the first block_kernel launch of the case (role_span_labels (512, 4096), no mask), with the first
# role-span row kernel of GPU_PROFILE_KERNELS (benchmarks/gpu_profile_case.py: "scan,compact" unless set; set
# it to one kernel to profile that one).
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
import csv, sys
rows = list(csv.reader(open(sys.argv[1], errors="replace")))
if not rows:
    sys.exit("empty source page")
# The header row: the first one naming an instruction count. With --print-source cuda,sass the page holds
# source-line rows (first column a line number) and SASS rows (first column an address); files start with a
# row naming them.
h = next(i for i, r in enumerate(rows) if any("Instructions Executed" in c for c in r))
col = next(i for i, c in enumerate(rows[h]) if c.startswith("Instructions Executed"))
def num(v):
    try:
        return float(v.replace(",", ""))
    except ValueError:
        return 0.0
lines, sass, file = [], [], "?"
for r in rows[h + 1:]:
    if len(r) <= col:
        if r and r[0].strip():
            file = r[0].strip()[-60:]
        continue
    (lines if r[0].strip().isdigit() else sass).append((num(r[col]), file, r))
total = sum(n for n, _, _ in lines) or sum(n for n, _, _ in sass)
print(f"instructions executed (warp level): {total:,.0f}")
for title, table, top in (("source lines", lines, 60), ("SASS instructions", sass, 25)):
    print(f"\nhottest {title}:")
    for n, f, r in sorted(table, key=lambda x: -x[0])[:top]:
        share = 100 * n / total if total else 0
        print(f"{n:>12,.0f} {share:5.1f}%  {f}:{r[0]}  {r[1].strip()[:110]}")
PY
