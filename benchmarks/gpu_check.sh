#!/usr/bin/env bash
# The GPU check of the CUDA path, in one run on a machine with a GPU (README.md, "CUDA"):
#   1. builds fastcollate with its CUDA kernels (pip install --no-build-isolation, FASTCOLLATE_CUDA=ON) into a
#      folder put first on PYTHONPATH, next to python3's own packages (torch with CUDA, pytest, hypothesis,
#      pybind11, scikit-build-core);
#   2. runs the kernels' CPU grid-runner tests and every test marked `cuda` (CUDA == CPU bit for bit for every
#      op and both collators, CUDA graph capture, torch.compile without graph breaks), then the device tests
#      that run role-span kernels once more with the specials compaction as the default row kernel
#      (FASTCOLLATE_ROLESPAN_KERNEL=compact; the bit-for-bit ones compare both kernels already);
#   3. runs compute-sanitizer memcheck and racecheck on a small case covering every kernel (both role-span
#      row kernels);
#   4. prints the benchmark table (benchmarks/gpu_bench.py): each op against its torch-ops twin and a
#      device-to-device copy of its output bytes, role_span_labels and ChatCollator with each role-span row
#      kernel ("scan" and "compact"), and end to end, CPU collate + pin + copy vs backend="cuda";
#   5. when Nsight Compute (`ncu`) is there, profiles each op's kernels once at a chip-filling size
#      (benchmarks/gpu_profile_case.py, both role-span row kernels): duration, memory throughput, occupancy;
#      then counts each role-span row kernel's instructions per source line (benchmarks/gpu_profile_lines.sh
#      on this build, which is made with -lineinfo: line tables only, the same code). Informational: a
#      profiler that cannot run (no counter permission) is reported and does not fail the check.
# Needs python3, nvcc, cmake and ninja; no internet. The whole run stays within GPU_CHECK_BUDGET seconds
# (default 570, under 10 minutes): every step's timeout is cut to what is left (the tests and the sanitizer
# leave time for the benchmarks), and the profiles are skipped when too little is. A failed build stops it; a failed test or sanitizer run is reported and the later steps
# still run (one run tells all), and the exit status is 1. When OUT is set, everything it prints goes to
# $OUT/gpu_check.log, the table to $OUT/gpu_table.md, and the test log, sanitizer reports and profiles
# (ncu.txt, hot_lines_scan.txt, hot_lines_compact.txt) there too.
# Usage: bash benchmarks/gpu_check.sh [--quick | --no-gpu]
#   --quick: small benchmark sizes only; --no-gpu: a dry run without a GPU (build, then the tests, which skip
#   what needs a device; no sanitizer, no benchmarks).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
bench_args=()
no_gpu=0
case "${1:-}" in
  "") ;;
  --quick) bench_args=(--quick) ;;
  --no-gpu) no_gpu=1 ;;
  *)
    echo "usage: bash benchmarks/gpu_check.sh [--quick | --no-gpu]" >&2
    exit 2
    ;;
esac

out_dir="${OUT:-}"
if [[ -n "$out_dir" ]]; then
  mkdir -p "$out_dir"
  exec > >(tee "$out_dir/gpu_check.log") 2>&1
fi

started=$SECONDS
budget=${GPU_CHECK_BUDGET:-570}
failures=()
step() { printf '\n=== [%3ds] %s ===\n' "$((SECONDS - started))" "$*"; }
# Seconds left of the budget.
left() { echo $((budget - (SECONDS - started))); }
# A step's timeout: `want` seconds, or what is left of the budget less `reserve` (seconds kept for the later
# steps: the benchmarks above all) when that is less; at least 1.
cap() {
  local want=$1 reserve=${2:-0} remaining
  remaining=$(($(left) - reserve))
  if ((remaining < want)); then
    want=$remaining
  fi
  if ((want < 1)); then
    want=1
  fi
  echo "$want"
}
fail() {
  printf '\ngpu_check: FAILED: %s\n' "$*" >&2
  exit 1
}
# A failed check: reported now and in the summary; the run goes on.
failed() {
  printf '\ngpu_check: FAILED: %s\n' "$*" >&2
  failures+=("$*")
}
# A CUDA tool: on PATH, else the first executable of the candidate paths (globs); empty when none.
find_tool() {
  local name=$1 candidate
  shift
  if command -v "$name"; then
    return 0
  fi
  for candidate in "$@"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 0
}
# A log's last 256 KiB into $OUT (what comes back from a GPU machine is limited).
keep() {
  if [[ -n "$out_dir" && -f "$1" ]]; then
    tail -c 262144 "$1" >"$out_dir/$(basename "$1")"
  fi
}

step "prerequisites"
command -v python3 >/dev/null || fail "python3 is not on PATH"
if ! command -v nvcc >/dev/null; then
  for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    if [[ -x "$dir/nvcc" ]]; then
      export PATH="$dir:$PATH"
      break
    fi
  done
fi
command -v nvcc >/dev/null || fail "nvcc not found (PATH, /usr/local/cuda*/bin): the CUDA kernels cannot be built"
command -v cmake >/dev/null || python3 -c "import cmake" 2>/dev/null || fail "cmake not found"
command -v ninja >/dev/null || python3 -c "import ninja" 2>/dev/null || fail "ninja not found"
for module in torch pytest hypothesis pybind11 scikit_build_core numpy; do
  python3 -c "import $module" 2>/dev/null || fail "python3 cannot import $module"
done
if [[ "$no_gpu" == 0 ]]; then
  python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" ||
    fail "torch $(python3 -c 'import torch; print(torch.__version__)') sees no CUDA device"
  python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
fi
nvcc --version | tail -n 2
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi

step "build with CUDA (pip install --no-build-isolation)"
work="${TMPDIR:-/tmp}/fastcollate-gpu-check"
rm -rf "$work"
mkdir -p "$work/site"
export FASTCOLLATE_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export CUDAFLAGS="${CUDAFLAGS:+$CUDAFLAGS }-lineinfo"  # source lines for step 5's profile
build_started=$SECONDS
if ! timeout "$(cap 420)" python3 -m pip install --no-build-isolation --no-deps --no-index --target "$work/site" -v . \
  >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  keep "$work/build.log"
  fail "the build failed (log above; whole log: $work/build.log)"
fi
echo "built in $((SECONDS - build_started)) s"
grep -E "fastcollate: CUDA kernels|Successfully installed" "$work/build.log" || true
export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
(cd /tmp && GPU_CHECK_NO_GPU="$no_gpu" GPU_CHECK_SITE="$work/site" python3 -) <<'EOF' ||
import os
import fastcollate
info = fastcollate.backend_info()
print("fastcollate from", os.path.dirname(fastcollate.__file__))
print("backend_info:", info)
assert info["cuda"]["compiled"], "built without CUDA"
if os.environ["GPU_CHECK_NO_GPU"] != "1":
    assert info["cuda"]["usable"], info["cuda"]["reason"]
    assert fastcollate.__file__.startswith(os.environ["GPU_CHECK_SITE"]), "not the build just made"
EOF
  fail "the installed fastcollate has no usable CUDA path (above)"

step "tests: the kernels on the CPU grid runner, and every test marked cuda"
# From /tmp, so that the installed fastcollate (with its extension) is imported, not the source tree.
test_log="$work/tests.log"
if (cd /tmp && timeout "$(cap 300 180)" python3 -m pytest -q -p no:cacheprovider -c "$repo/pyproject.toml" \
  --rootdir "$repo" "$repo/tests/runtime/test_cuda_grid.py" "$repo/tests/runtime/test_cuda_device.py" \
  -k "not compute_sanitizer" -rfEs) >"$test_log" 2>&1; then
  tail -n 15 "$test_log"
else
  tail -n 80 "$test_log"
  failed "the CUDA tests (above; whole log: $test_log)"
fi
keep "$test_log"
if [[ "$no_gpu" == 0 ]]; then
  # The device tests that run role-span kernels through the public API without comparing both kernels
  # themselves (graph capture, no host wait, streams, errors, output blocks), with the
  # specials compaction as the default row kernel.
  compact_log="$work/tests-compact.log"
  if (cd /tmp && FASTCOLLATE_ROLESPAN_KERNEL=compact timeout "$(cap 90 180)" python3 -m pytest -q -p no:cacheprovider \
    -c "$repo/pyproject.toml" --rootdir "$repo" "$repo/tests/runtime/test_cuda_device.py" \
    -k "not compute_sanitizer and not equals_cpu and not delay_pattern and not higgs and not torch_compile" \
    -rfEs) \
    >"$compact_log" 2>&1; then
    tail -n 5 "$compact_log"
  else
    tail -n 60 "$compact_log"
    failed "the CUDA tests with FASTCOLLATE_ROLESPAN_KERNEL=compact (above; whole log: $compact_log)"
  fi
  keep "$compact_log"
fi

if [[ "$no_gpu" == 1 ]]; then
  step "done (--no-gpu: no sanitizer, no benchmarks; ${#failures[@]} failure(s))"
  exit $((${#failures[@]} > 0))
fi

step "compute-sanitizer (memcheck, racecheck) on tests/cuda_sanitizer_case.py"
sanitizer=$(find_tool compute-sanitizer /usr/local/cuda*/bin/compute-sanitizer \
  /usr/local/cuda*/compute-sanitizer/compute-sanitizer)
if [[ -z "$sanitizer" ]]; then
  echo "compute-sanitizer not found (PATH, /usr/local/cuda*/): SKIPPED"
else
  for tool in memcheck racecheck; do
    report="$work/sanitizer-$tool.txt"
    if timeout "$(cap 150 120)" "$sanitizer" --tool "$tool" --error-exitcode 9 python3 tests/cuda_sanitizer_case.py \
      >"$report" 2>&1; then
      grep -E "sanitizer case ok|SUMMARY" "$report" || true
    else
      tail -n 40 "$report"
      failed "compute-sanitizer --tool $tool (errors, or it did not finish; above; whole report: $report)"
    fi
    keep "$report"
  done
fi

step "benchmarks"
if [[ -n "$out_dir" ]]; then
  bench_args+=(--out "$out_dir/gpu_table.md")
fi
(cd /tmp && timeout "$(cap 240)" python3 "$repo/benchmarks/gpu_bench.py" "${bench_args[@]}") ||
  failed "the benchmarks (above)"

step "profile (Nsight Compute, informational)"
ncu=$(find_tool ncu /usr/local/cuda*/bin/ncu /usr/local/cuda*/nsight-compute*/ncu /opt/nvidia/nsight-compute/*/ncu)
if [[ -z "$ncu" ]]; then
  echo "ncu not found (PATH, /usr/local/cuda*/, /opt/nvidia/nsight-compute/): SKIPPED"
elif [[ " ${bench_args[*]} " == *" --quick "* ]]; then
  echo "--quick: SKIPPED"
elif (($(left) < 40)); then
  echo "$(left) s left of the ${budget} s budget: SKIPPED"
else
  profile="$work/ncu.txt"
  if (cd /tmp && timeout "$(cap 150)" "$ncu" --profile-from-start off --nvtx --print-summary none \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
    --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section InstructionStats -k "regex:block_kernel|element_kernel" \
    python3 "$repo/benchmarks/gpu_profile_case.py") >"$profile" 2>&1; then
    grep -E "gpu_profile_case|block_kernel|element_kernel|Duration|Memory Throughput|DRAM Throughput|Compute \(SM\)|Achieved Occupancy|Registers Per|Dynamic Shared|Block Limit|Executed Ipc|Warp Cycles Per Issued|Executed Instructions|L1/TEX Hit|L2 Hit" \
      "$profile" | head -n 240 || true
  else
    tail -n 20 "$profile"
    echo "ncu did not run (above; e.g. no permission for the GPU's performance counters): not a failure"
  fi
  keep "$profile"
  # One role-span row kernel at a time (GPU_PROFILE_KERNELS: its launch is the case's first block_kernel).
  # The CSV and details stay in $work/lines-*: what comes back from a GPU machine is a few files.
  for kernel in compact scan; do
    if (($(left) < 40)); then
      echo "per-line profile of the $kernel kernel: $(left) s left of the ${budget} s budget: SKIPPED"
      continue
    fi
    lines="$work/lines-$kernel"
    if GPU_PROFILE_KERNELS=$kernel OUT="$lines" SITE="$work/site" timeout "$(cap 150)" \
      bash "$repo/benchmarks/gpu_profile_lines.sh" >"$work/lines-$kernel.log" 2>&1; then
      echo "--- per-line profile, role-span row kernel \"$kernel\""
      head -n 40 "$lines/hot_lines.txt" || true
      if [[ -n "$out_dir" && -f "$lines/hot_lines.txt" ]]; then
        tail -c 262144 "$lines/hot_lines.txt" >"$out_dir/hot_lines_$kernel.txt"
      fi
    else
      tail -n 20 "$work/lines-$kernel.log"
      echo "the per-line profile of the $kernel kernel did not run (above): not a failure"
    fi
  done
fi

if [[ ${#failures[@]} -gt 0 ]]; then
  step "done: ${#failures[@]} check(s) FAILED"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
step "done: every check passed"
