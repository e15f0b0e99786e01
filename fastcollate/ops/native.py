"""The ops' implementations on real tensors: allocate the outputs, then one compiled call fills them
(csrc/python/register_ops.cpp, GIL released). Without the extension the pure-Python twins compute them.
CUDA tensors go to fastcollate/cuda/ops.py (the kernels, on the tensors' device).

Arguments arrive checked (fastcollate/ops/checks.py); both the registered torch.library ops
(fastcollate/ops/library.py) and the public functions' eager path call these.
"""

from __future__ import annotations

import torch

from .._backend import _core
from . import delay_pattern_reference as delay_twin
from . import role_span_labels_reference as labels_twin
from .spec_fields import native_spec_from_fields, spec_from_fields

COMPILED = _core is not None
# Devices whose tensors the compiled code takes directly (eager): the CPU, and CUDA when its kernels were built.
_EAGER_DEVICES = ("cpu", "cuda") if getattr(getattr(_core, "runtime", None), "cuda_built", False) else ("cpu",)


def _cuda():
    from ..cuda import ops as cuda_ops  # imported on first use: fastcollate.cuda imports fastcollate.ops
    return cuda_ops


def apply_into(codes, args, layout: str, mode: str, delayed, generation_mask) -> None:
    if codes.is_cuda:
        return _cuda().apply_into(codes, args, layout, mode, delayed, generation_mask)
    if COMPILED:
        _core.delay.apply(codes, args.bos, args.pad, list(args.delays), layout == "BTK", mode == "extend", delayed,
                          generation_mask)
        return
    twin = delay_twin.apply_delay_pattern(codes, args.bos, args.pad, delays=args.delays, layout=layout, mode=mode)
    delayed.copy_(twin[0])
    generation_mask.copy_(twin[1])


def apply_new(codes, args, layout: str, mode: str) -> torch.Tensor:
    """Delayed ids and generation mask stacked in one (2, ...) allocation (one torch.empty, not two: see
    csrc/python/output_arena.h for what separate multi-MB buffers cost)."""
    if codes.is_cuda:
        return _cuda().apply_new(codes, args, layout, mode)
    both = torch.empty((2,) + args.shape, dtype=codes.dtype)
    apply_into(codes, args, layout, mode, both[0], both[1])
    return both


def revert_new(delayed, args, layout: str) -> torch.Tensor:
    if delayed.is_cuda:
        return _cuda().revert_new(delayed, args, layout)
    if not COMPILED:
        return delay_twin.revert_delay_pattern(delayed, delays=args.delays, layout=layout, start_index=args.start_index)
    codes = torch.empty(args.shape, dtype=delayed.dtype)
    _core.delay.revert(delayed, list(args.delays), layout == "BTK", args.start_index, codes)
    return codes


def apply_ragged_new(codes, args, layout: str, stream_bos_eos: bool, return_labels: bool):
    """(delayed, new offsets, labels); labels is an empty tensor when not asked (ops return tensors only)."""
    if codes.is_cuda:
        return _cuda().apply_ragged_new(codes, args, layout, stream_bos_eos, return_labels)
    if not COMPILED:
        out = delay_twin.apply_delay_pattern_ragged(codes, args.offsets, args.bos, args.pad, delays=args.delays,
                                                    layout=layout, stream_bos_eos=stream_bos_eos,
                                                    return_labels=return_labels, no_train=args.no_train)
        return out.codes, out.offsets, out.labels if return_labels else torch.empty(0, dtype=torch.int64)
    delayed = torch.empty(args.shape, dtype=codes.dtype)
    new_offsets = torch.empty(args.offsets.shape[0], dtype=torch.int64)
    labels = torch.empty(args.shape if return_labels else (0,), dtype=torch.int64)
    _core.delay.apply_ragged(codes, args.offsets, args.bos, args.pad, list(args.delays), layout == "BTK",
                             stream_bos_eos, delayed, new_offsets, labels if return_labels else None, args.no_train)
    return delayed, new_offsets, labels


def revert_ragged_new(delayed, args, layout: str, stream_bos_eos: bool):
    if delayed.is_cuda:
        return _cuda().revert_ragged_new(delayed, args, layout, stream_bos_eos)
    if not COMPILED:
        out = delay_twin.revert_delay_pattern_ragged(delayed, args.offsets, delays=args.delays, layout=layout,
                                                     stream_bos_eos=stream_bos_eos)
        return out.codes, out.offsets
    codes = torch.empty(args.shape, dtype=delayed.dtype)
    new_offsets = torch.empty(args.offsets.shape[0], dtype=torch.int64)
    _core.delay.revert_ragged(delayed, args.offsets, list(args.delays), layout == "BTK", stream_bos_eos, codes,
                              new_offsets)
    return codes, new_offsets


def role_span_labels_into(input_ids, attention_mask, start_index, fields, out, native_spec=None) -> None:
    """`fields`: the spec as spec_fields() gives it; `native_spec` its compiled form when the caller has it."""
    if input_ids.is_cuda:
        spec = native_spec if native_spec is not None else native_spec_from_fields(*fields) if COMPILED else None
        return _cuda().role_span_labels_into(input_ids, attention_mask, start_index, spec, out)
    if COMPILED:
        spec = native_spec if native_spec is not None else native_spec_from_fields(*fields)
        _core.rolespan.labels(input_ids, attention_mask, start_index, spec, out)
        return
    out.copy_(labels_twin.role_span_labels(input_ids, spec_from_fields(*fields), attention_mask=attention_mask,
                                           start_index=start_index))


def eager(*tensors) -> bool:
    """Call the compiled code directly: the extension is built, nothing is being traced, and every tensor is a
    plain CPU tensor (or CUDA tensor, with the CUDA kernels built; checks.py has put them on one device).
    Anything else (meta and fake tensors, torch.compile, subclasses, the fallback) goes through the registered
    torch.library op, whose dispatch costs about 10 us a call."""
    return COMPILED and not torch.compiler.is_compiling() and all(
        t is None or (type(t) is torch.Tensor and t.device.type in _EAGER_DEVICES) for t in tensors)
