"""The delay-pattern ops' implementations on real tensors: allocate the outputs, then one compiled call fills
them (GIL released). Without the extension the pure-Python twins compute them. CUDA tensors go to cuda.py
(the kernels, on the tensors' device).

Arguments arrive checked (checks.py); both the registered torch.library ops (library.py) and the public
functions' eager path call these.
"""

from __future__ import annotations

import math

import torch

from ..runtime import backend
from ..runtime.backend import _core
from . import cuda
from . import delay_pattern_reference as delay_twin
from .checks import check_output_memory, check_ragged_values


def apply_into(codes, args, layout: str, mode: str, delayed, generation_mask) -> None:
    if codes.is_cuda:
        return cuda.apply_into(codes, args, layout, mode, delayed, generation_mask)
    if backend.COMPILED:
        _core.delay.apply(
            codes, args.bos, args.pad, list(args.delays), layout == "BTK", mode == "extend", delayed, generation_mask
        )
        return
    twin = delay_twin.apply_delay_pattern(codes, args.bos, args.pad, delays=args.delays, layout=layout, mode=mode)
    delayed.copy_(twin[0])
    generation_mask.copy_(twin[1])


def apply_new(codes, args, layout: str, mode: str) -> torch.Tensor:
    """Delayed ids and generation mask stacked in one (2, ...) allocation (one torch.empty, not two: see
    csrc/python/output_arena.h for what separate multi-MB buffers cost)."""
    if codes.is_cuda:
        return cuda.apply_new(codes, args, layout, mode)
    check_output_memory(2 * math.prod(args.shape), codes.element_size())
    both = torch.empty((2,) + args.shape, dtype=codes.dtype)
    apply_into(codes, args, layout, mode, both[0], both[1])
    return both


def revert_new(delayed, args, layout: str) -> torch.Tensor:
    if delayed.is_cuda:
        return cuda.revert_new(delayed, args, layout)
    if not backend.COMPILED:
        return delay_twin.revert_delay_pattern(delayed, delays=args.delays, layout=layout, start_index=args.start_index)
    codes = torch.empty(args.shape, dtype=delayed.dtype)
    _core.delay.revert(delayed, list(args.delays), layout == "BTK", args.start_index, codes)
    return codes


def apply_ragged_new(codes, args, layout: str, stream_bos_eos: bool, return_labels: bool):
    """(delayed, new offsets, labels); labels is an empty tensor when not asked (ops return tensors only)."""
    if codes.is_cuda:
        return cuda.apply_ragged_new(codes, args, layout, stream_bos_eos, return_labels)
    # The offsets and the output's size before anything is allocated, as the twin checks them.
    check_ragged_values(args, codes.shape[0 if layout == "BTK" else 1], codes.element_size(), return_labels)
    if not backend.COMPILED:
        out = delay_twin.apply_delay_pattern_ragged(
            codes,
            args.offsets,
            args.bos,
            args.pad,
            delays=args.delays,
            layout=layout,
            stream_bos_eos=stream_bos_eos,
            return_labels=return_labels,
            no_train=args.no_train,
        )
        return out.codes, out.offsets, out.labels if return_labels else torch.empty(0, dtype=torch.int64)
    delayed = torch.empty(args.shape, dtype=codes.dtype)
    new_offsets = torch.empty(args.offsets.shape[0], dtype=torch.int64)
    labels = torch.empty(args.shape if return_labels else (0,), dtype=torch.int64)
    _core.delay.apply_ragged(
        codes,
        args.offsets,
        args.bos,
        args.pad,
        list(args.delays),
        layout == "BTK",
        stream_bos_eos,
        delayed,
        new_offsets,
        labels if return_labels else None,
        args.no_train,
    )
    return delayed, new_offsets, labels


def revert_ragged_new(delayed, args, layout: str, stream_bos_eos: bool):
    if delayed.is_cuda:
        return cuda.revert_ragged_new(delayed, args, layout, stream_bos_eos)
    if not backend.COMPILED:
        out = delay_twin.revert_delay_pattern_ragged(
            delayed, args.offsets, delays=args.delays, layout=layout, stream_bos_eos=stream_bos_eos
        )
        return out.codes, out.offsets
    codes = torch.empty(args.shape, dtype=delayed.dtype)
    new_offsets = torch.empty(args.offsets.shape[0], dtype=torch.int64)
    _core.delay.revert_ragged(
        delayed, args.offsets, list(args.delays), layout == "BTK", stream_bos_eos, codes, new_offsets
    )
    return codes, new_offsets
