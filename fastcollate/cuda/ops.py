"""fastcollate.ops on CUDA tensors: outputs allocated on the inputs' device, one kernel launch (two for the
ragged ops) on torch's current stream, the same kernel bodies the CPU grid runner tests (csrc/ops/
delay_bodies.h, csrc/rolespan/rolespan_scan.h). fastcollate/ops/native.py dispatches here for CUDA tensors;
arguments arrive checked (fastcollate/ops/checks.py), all on one device.

Values only the kernels read (ragged offsets, attention masks) are checked there; see check_status for when
the host waits for that check.
"""

from __future__ import annotations

import torch

from .._backend import _core
from ..ops import checks
from . import built, check_status, kernel_target


def _require_built(t: torch.Tensor) -> None:
    if not built():
        raise RuntimeError(f"fastcollate: the tensors are on {t.device}, but fastcollate was built without its CUDA "
                           "kernels (no nvcc when it was built, or FASTCOLLATE_CUDA=OFF); see backend_info()['cuda']")


def apply_into(codes, args, layout: str, mode: str, delayed, generation_mask) -> None:
    _require_built(codes)
    _core.delay.kernel_apply(codes, args.bos, args.pad, list(args.delays), layout == "BTK", mode == "extend", delayed,
                             generation_mask, **kernel_target(codes.device))


def apply_new(codes, args, layout: str, mode: str) -> torch.Tensor:
    both = torch.empty((2,) + args.shape, dtype=codes.dtype, device=codes.device)
    apply_into(codes, args, layout, mode, both[0], both[1])
    return both


def revert_new(delayed, args, layout: str) -> torch.Tensor:
    _require_built(delayed)
    codes = torch.empty(args.shape, dtype=delayed.dtype, device=delayed.device)
    _core.delay.kernel_revert(delayed, list(args.delays), layout == "BTK", args.start_index, codes,
                              **kernel_target(delayed.device))
    return codes


def _offsets(args, device) -> torch.Tensor:
    return args.offsets.to(device=device, dtype=torch.int64).contiguous()


def apply_ragged_new(codes, args, layout: str, stream_bos_eos: bool, return_labels: bool):
    """(delayed, new offsets, labels); labels is an empty tensor when not asked (ops return tensors only)."""
    _require_built(codes)
    device = codes.device
    offsets = _offsets(args, device)
    delayed = torch.empty(args.shape, dtype=codes.dtype, device=device)
    new_offsets = torch.empty(offsets.shape[0], dtype=torch.int64, device=device)
    labels = torch.empty(args.shape if return_labels else (0,), dtype=torch.int64, device=device)
    no_train = None if args.no_train is None else args.no_train.contiguous()
    status = torch.zeros(1, dtype=torch.int32, device=device)
    _core.delay.kernel_apply_ragged(codes, offsets, args.bos, args.pad, list(args.delays), layout == "BTK",
                                    stream_bos_eos, delayed, new_offsets, labels if return_labels else None,
                                    no_train, status, **kernel_target(device))
    n_cols = codes.shape[0] if layout == "BTK" else codes.shape[1]
    check_status(status, lambda: checks.check_offset_values(args.offsets.tolist(), n_cols))
    return delayed, new_offsets, labels


def revert_ragged_new(delayed, args, layout: str, stream_bos_eos: bool):
    _require_built(delayed)
    device = delayed.device
    offsets = _offsets(args, device)
    codes = torch.empty(args.shape, dtype=delayed.dtype, device=device)
    new_offsets = torch.empty(offsets.shape[0], dtype=torch.int64, device=device)
    status = torch.zeros(1, dtype=torch.int32, device=device)
    _core.delay.kernel_revert_ragged(delayed, offsets, list(args.delays), layout == "BTK", stream_bos_eos, codes,
                                     new_offsets, status, **kernel_target(device))

    def recheck():
        values = checks.check_offset_values(args.offsets.tolist(), delayed.shape[0 if layout == "BTK" else 1])
        for s in range(len(values) - 1):
            checks.check_segment_width(s, values[s + 1] - values[s], args.extra)

    check_status(status, recheck)
    return codes, new_offsets


def role_span_labels_into(input_ids, attention_mask, start_index, native_spec, out) -> None:
    _require_built(input_ids)
    starts = None if start_index is None else start_index.to(torch.int64).contiguous()
    # Only an attention mask can be invalid (the ids are any values): without one, no status and no wait.
    status = None if attention_mask is None else torch.zeros(1, dtype=torch.int32, device=input_ids.device)
    _core.rolespan.kernel_labels(input_ids, attention_mask, starts, native_spec, out, status,
                                  **kernel_target(input_ids.device))
    if status is None:
        return

    def recheck():
        mask = attention_mask.cpu()
        for r in range(mask.shape[0]):
            checks.row_span(r, mask[r].tolist())

    check_status(status, recheck)
