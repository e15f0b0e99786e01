"""How the ops read tensors whose memory does not simply hold their values.

A negative view (`torch._neg_view`) stores -x and means x. The compiled code reads memory, not values, and
torch.library's fallback for the negative bit gives up on ops with two mutable outputs or an optional tensor
argument. An unaligned CPU tensor (`torch.frombuffer` at an odd offset) cannot be read with typed loads.
The public ops therefore hand their implementations a materialised copy of such an input, and write
such an out= tensor through a temporary, as torch's own out= ops do. Every path then gives the twin's values;
the private compiled entry points reject both (csrc/python/reader.cpp).
"""

from __future__ import annotations

from typing import Optional

import torch


def _unaligned(t: torch.Tensor) -> bool:
    # Only real CPU tensors have addresses to check: CUDA allocations are aligned, and meta tensors have none.
    return type(t) is torch.Tensor and t.device.type == "cpu" and t.data_ptr() % t.element_size() != 0


def readable(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """`t`, or a copy holding its values at aligned addresses. While torch.compile traces, `t` as it is: the
    traced graph materialises views itself, and reading the negative bit there would break the graph."""
    if t is None or torch.compiler.is_compiling():
        return t
    if t.is_neg():
        t = t.resolve_neg()
    return t.clone() if _unaligned(t) else t


def writable(t: torch.Tensor) -> bool:
    """Whether an out= tensor can be written directly (else through a temporary)."""
    return torch.compiler.is_compiling() or not (t.is_neg() or _unaligned(t))
