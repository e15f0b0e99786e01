"""The kernels benchmarks/gpu_check.sh profiles with Nsight Compute when `ncu` is on the machine: each op once,
at a size that fills the chip, between cudaProfilerStart and cudaProfilerStop (after a warm-up call of each),
so `ncu --profile-from-start off` reports the kernels' own duration, memory throughput and occupancy.

    ncu --profile-from-start off --section SpeedOfLight python3 benchmarks/gpu_profile_case.py

role_span_labels runs with each role-span row kernel named in GPU_PROFILE_KERNELS (comma-separated, default
"scan,compact"; internal, see docs/guide/cuda.md): with one kernel named, the first block_kernel launch is that
kernel's (benchmarks/gpu_profile_lines.sh profiles the first one).
"""

from __future__ import annotations

import os

import torch

import fastcollate
from fastcollate import _core, presets
from fastcollate.synthetic import synthetic_text_batch


def with_kernel(kernel: str, fn):
    """fn() with `kernel` as the role-span row kernel (_core.rolespan.set_kernel), the one before restored."""

    def run():
        before = _core.rolespan.set_kernel(kernel)
        try:
            return fn()
        finally:
            _core.rolespan.set_kernel(before)

    return run


def main() -> None:
    device = torch.device("cuda", 0)
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (256, 8, 4096), generator=g).to(device)
    btk = codes.transpose(1, 2).contiguous()
    delayed = fastcollate.apply_delay_pattern(codes, 1024, 1025)[0]
    spec = presets.llama3()
    texts = [s.input_ids for s in synthetic_text_batch(512, 4096, seed=2)]
    batch = fastcollate.ChatCollator(spec, 128001, pad_left=True, backend="cpu")(texts)
    ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
    ops = {
        "apply_delay_pattern (256, 8, 4096)": lambda: fastcollate.apply_delay_pattern(codes, 1024, 1025),
        "apply_delay_pattern (256, 4096, 8) BTK": lambda: fastcollate.apply_delay_pattern(
            btk, 1024, 1025, layout="BTK"
        ),
        "revert_delay_pattern (256, 8, 4103)": lambda: fastcollate.revert_delay_pattern(delayed),
    }
    for kernel in os.environ.get("GPU_PROFILE_KERNELS", "scan,compact").split(","):
        ops[f"role_span_labels (512, 4096), no mask, {kernel}"] = with_kernel(
            kernel, lambda: fastcollate.role_span_labels(ids, spec)
        )
        ops[f"role_span_labels (512, 4096), mask, {kernel}"] = with_kernel(
            kernel, lambda: fastcollate.role_span_labels(ids, spec, attention_mask=mask)
        )
    for op in ops.values():  # warm-up: lazy loading and the allocator, outside the profiled range
        op()
    torch.cuda.synchronize()
    torch.cuda.profiler.start()
    for name, op in ops.items():
        torch.cuda.nvtx.range_push(name)
        op()
        torch.cuda.nvtx.range_pop()
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()
    print("gpu_profile_case: ran", ", ".join(ops))


if __name__ == "__main__":
    main()
