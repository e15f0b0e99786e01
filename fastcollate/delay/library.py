"""The delay-pattern ops registered with torch.library (namespace `fastcollate`): custom ops whose fake
implementations, written here in Python, give every output's shape from the inputs' shapes alone. So a function
calling the public ops compiles under torch.compile without graph breaks, and meta tensors get shapes without
any computation; the extension still never links libtorch (the real implementations are native.py).

Ops return tensors only, never aliases of each other: apply returns the delayed ids and the generation
mask stacked as one (2, ...) tensor that the public function splits; a ragged apply without labels returns
an empty labels tensor. The `*_out` ops write into given tensors (out=). The mode is a bool `extend` here:
no op argument is named `mode`: it collides with torch's own in the functionalization of mutating ops
(torch 2.13).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor

from ..common.torch_library import custom_op as _op
from . import native
from .checks import check_apply, check_apply_ragged, check_revert, check_revert_ragged


def _mode(extend: bool) -> str:
    return "extend" if extend else "preserve"


@_op("apply_delay_pattern")
def apply_delay_pattern(
    codes: Tensor, bos_token_id: int, pad_token_id: int, delays: List[int], layout: str, extend: bool
) -> Tensor:
    args = check_apply(codes, bos_token_id, pad_token_id, delays, layout, _mode(extend))
    return native.apply_new(codes, args, layout, _mode(extend))


@apply_delay_pattern.register_fake
def _(codes, bos_token_id, pad_token_id, delays, layout, extend):
    return codes.new_empty((2,) + check_apply(codes, bos_token_id, pad_token_id, delays, layout, _mode(extend)).shape)


@_op("apply_delay_pattern_out", mutates_args=("delayed", "generation_mask"))
def apply_delay_pattern_out(
    codes: Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: List[int],
    layout: str,
    extend: bool,
    delayed: Tensor,
    generation_mask: Tensor,
) -> None:
    args = check_apply(codes, bos_token_id, pad_token_id, delays, layout, _mode(extend))
    native.apply_into(codes, args, layout, _mode(extend), delayed, generation_mask)


@apply_delay_pattern_out.register_fake
def _(codes, bos_token_id, pad_token_id, delays, layout, extend, delayed, generation_mask):
    return None


@_op("revert_delay_pattern")
def revert_delay_pattern(delayed: Tensor, delays: List[int], layout: str, start_index: int) -> Tensor:
    return native.revert_new(delayed, check_revert(delayed, delays, layout, start_index), layout)


@revert_delay_pattern.register_fake
def _(delayed, delays, layout, start_index):
    return delayed.new_empty(check_revert(delayed, delays, layout, start_index).shape)


@_op("apply_delay_pattern_ragged")
def apply_delay_pattern_ragged(
    codes: Tensor,
    offsets: Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: List[int],
    layout: str,
    stream_bos_eos: bool,
    return_labels: bool,
    no_train: Optional[Tensor],
) -> Tuple[Tensor, Tensor, Tensor]:
    args = check_apply_ragged(
        codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train
    )
    return native.apply_ragged_new(codes, args, layout, stream_bos_eos, return_labels)


@apply_delay_pattern_ragged.register_fake
def _(codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train):
    args = check_apply_ragged(
        codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train
    )
    labels_shape = args.shape if return_labels else (0,)
    return (
        codes.new_empty(args.shape),
        offsets.new_empty(offsets.shape, dtype=torch.int64),
        codes.new_empty(labels_shape, dtype=torch.int64),
    )


@_op("revert_delay_pattern_ragged")
def revert_delay_pattern_ragged(
    delayed: Tensor, offsets: Tensor, delays: List[int], layout: str, stream_bos_eos: bool
) -> Tuple[Tensor, Tensor]:
    args = check_revert_ragged(delayed, offsets, delays, layout, stream_bos_eos)
    return native.revert_ragged_new(delayed, args, layout, stream_bos_eos)


@revert_delay_pattern_ragged.register_fake
def _(delayed, offsets, delays, layout, stream_bos_eos):
    args = check_revert_ragged(delayed, offsets, delays, layout, stream_bos_eos)
    return delayed.new_empty(args.shape), offsets.new_empty(offsets.shape, dtype=torch.int64)
