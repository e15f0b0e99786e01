"""role_span_labels registered with torch.library (namespace `fastcollate`): custom ops whose fake
implementations give the output's shape from the inputs' shapes alone, so a function calling the public op
compiles under torch.compile without graph breaks, and meta tensors get shapes without any computation (the
real implementation is rolespan_labels_native.py).

The `*_out` op writes into a given tensor (out=). No op argument is named `mode`: it collides with torch's own
in the functionalization of mutating ops (torch 2.13).
"""

from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from ..common.torch_library import custom_op as _op
from . import rolespan_labels_native as native


# The spec travels as its flat fields (spec_fields.py), in FIELDS order (`mode` named spec_mode).
@_op("role_span_labels")
def role_span_labels(
    input_ids: Tensor,
    attention_mask: Optional[Tensor],
    start_index: Optional[Tensor],
    spec_mode: int,
    turns: int,
    learn_end_of_turn: bool,
    learn_header: bool,
    turn_start: List[int],
    header_end: List[int],
    role_ids: List[int],
    role_offsets: List[int],
    role_learned: List[bool],
    end_of_turn: List[int],
    always_masked: List[int],
) -> Tensor:
    fields = (
        spec_mode,
        turns,
        learn_end_of_turn,
        learn_header,
        turn_start,
        header_end,
        role_ids,
        role_offsets,
        role_learned,
        end_of_turn,
        always_masked,
    )
    out = torch.empty(input_ids.shape, dtype=torch.int64, device=input_ids.device)
    native.role_span_labels_into(input_ids, attention_mask, start_index, fields, out)
    return out


@role_span_labels.register_fake
def _(input_ids, attention_mask, start_index, *fields):
    return input_ids.new_empty(input_ids.shape, dtype=torch.int64)


@_op("role_span_labels_out", mutates_args=("out",))
def role_span_labels_out(
    input_ids: Tensor,
    attention_mask: Optional[Tensor],
    start_index: Optional[Tensor],
    spec_mode: int,
    turns: int,
    learn_end_of_turn: bool,
    learn_header: bool,
    turn_start: List[int],
    header_end: List[int],
    role_ids: List[int],
    role_offsets: List[int],
    role_learned: List[bool],
    end_of_turn: List[int],
    always_masked: List[int],
    out: Tensor,
) -> None:
    fields = (
        spec_mode,
        turns,
        learn_end_of_turn,
        learn_header,
        turn_start,
        header_end,
        role_ids,
        role_offsets,
        role_learned,
        end_of_turn,
        always_masked,
    )
    native.role_span_labels_into(input_ids, attention_mask, start_index, fields, out)


@role_span_labels_out.register_fake
def _(input_ids, attention_mask, start_index, *fields_and_out):
    return None
