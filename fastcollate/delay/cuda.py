"""The delay-pattern ops on CUDA tensors: outputs allocated on the inputs' device, one kernel launch (two for
the ragged ops) on torch's current stream, the same kernel bodies the CPU grid runner tests. native.py
dispatches here for CUDA tensors; arguments arrive checked (checks.py), all on one device.

Values only the kernels read (ragged offsets) are checked there; see runtime.backend.check_status for when
the host waits for that check.
"""

from __future__ import annotations

import torch

from ..runtime.backend import _core, check_status, kernel_target, require_cuda_built
from . import checks


def apply_into(codes, args, layout: str, mode: str, delayed, generation_mask) -> None:
    require_cuda_built(codes)
    _core.delay.kernel_apply(
        codes,
        args.bos,
        args.pad,
        list(args.delays),
        layout == "BTK",
        mode == "extend",
        delayed,
        generation_mask,
        **kernel_target(codes.device),
    )


def apply_new(codes, args, layout: str, mode: str) -> torch.Tensor:
    both = torch.empty((2,) + args.shape, dtype=codes.dtype, device=codes.device)
    apply_into(codes, args, layout, mode, both[0], both[1])
    return both


def revert_new(delayed, args, layout: str) -> torch.Tensor:
    require_cuda_built(delayed)
    codes = torch.empty(args.shape, dtype=delayed.dtype, device=delayed.device)
    _core.delay.kernel_revert(
        delayed, list(args.delays), layout == "BTK", args.start_index, codes, **kernel_target(delayed.device)
    )
    return codes


def _offsets(args, device) -> torch.Tensor:
    return args.offsets.to(device=device, dtype=torch.int64).contiguous()


def apply_ragged_new(codes, args, layout: str, stream_bos_eos: bool, return_labels: bool):
    """(delayed, new offsets, labels); labels is an empty tensor when not asked (ops return tensors only)."""
    require_cuda_built(codes)
    device = codes.device
    offsets = _offsets(args, device)
    delayed = torch.empty(args.shape, dtype=codes.dtype, device=device)
    new_offsets = torch.empty(offsets.shape[0], dtype=torch.int64, device=device)
    labels = torch.empty(args.shape if return_labels else (0,), dtype=torch.int64, device=device)
    no_train = None if args.no_train is None else args.no_train.contiguous()
    status = torch.zeros(1, dtype=torch.int32, device=device)
    _core.delay.kernel_apply_ragged(
        codes,
        offsets,
        args.bos,
        args.pad,
        list(args.delays),
        layout == "BTK",
        stream_bos_eos,
        delayed,
        new_offsets,
        labels if return_labels else None,
        no_train,
        status,
        **kernel_target(device),
    )
    n_cols = codes.shape[0] if layout == "BTK" else codes.shape[1]
    check_status(status, lambda: checks.check_offset_values(args.offsets.tolist(), n_cols))
    return delayed, new_offsets, labels


def revert_ragged_new(delayed, args, layout: str, stream_bos_eos: bool):
    require_cuda_built(delayed)
    device = delayed.device
    offsets = _offsets(args, device)
    codes = torch.empty(args.shape, dtype=delayed.dtype, device=device)
    new_offsets = torch.empty(offsets.shape[0], dtype=torch.int64, device=device)
    status = torch.zeros(1, dtype=torch.int32, device=device)
    _core.delay.kernel_revert_ragged(
        delayed,
        offsets,
        list(args.delays),
        layout == "BTK",
        stream_bos_eos,
        codes,
        new_offsets,
        status,
        **kernel_target(device),
    )

    def recheck():
        values = checks.check_offset_values(args.offsets.tolist(), delayed.shape[0 if layout == "BTK" else 1])
        for s in range(len(values) - 1):
            checks.check_segment_width(s, values[s + 1] - values[s], args.extra)

    check_status(status, recheck)
    return codes, new_offsets
