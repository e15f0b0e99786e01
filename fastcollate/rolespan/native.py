"""The compiled role-span collation: one native call per batch (csrc/rolespan).

Same signature and outputs as fastcollate.rolespan.reference.collate_text_reference, its twin.
"""

from __future__ import annotations

import functools

import torch

from ..runtime.backend import core, kernel_target
from .packed import varlen_fields
from .spec import RoleSpanSpec


@functools.lru_cache(maxsize=64)
def native_spec(spec: RoleSpanSpec):
    """The spec as the C++ takes it; built once per spec (specs are frozen and hashable)."""
    return core().rolespan.RoleSpanSpecNative(**spec.to_native())


def _result(input_ids, labels, aux, cu_seqlens, num_learned, max_seqlen, packed: bool) -> dict:
    if packed:
        return {
            "input_ids": input_ids,
            "labels": labels,
            "position_ids": aux,
            **varlen_fields(cu_seqlens, max_seqlen),
            "num_learned": num_learned,
        }
    return {"input_ids": input_ids, "labels": labels, "attention_mask": aux, "num_learned": num_learned}


def collate_text_native(
    rows,
    spec: RoleSpanSpec,
    pad_token_id: int,
    pad_left: bool = False,
    pad_to_multiple_of: int = 1,
    packed: bool = False,
    start_indices=None,
    device=None,
) -> dict:
    """device: a CUDA torch.device (ChatCollator(backend="cuda")): the rows are read on the host, staged in one
    pinned buffer, copied once, and masked, padded or packed on the device (csrc/rolespan/rolespan_scan.h)."""
    # Tensors, arrays and lists go to C++ as they are: it reads or converts each in one native pass.
    args = (
        rows,
        native_spec(spec),
        int(pad_token_id),
        bool(pad_left),
        int(pad_to_multiple_of),
        bool(packed),
        start_indices,
    )
    if device is None:
        return _result(*core().rolespan.collate(*args), packed=packed)
    with torch.cuda.device(device):
        return _result(*core().rolespan.kernel_collate(*args, **kernel_target(device)), packed=packed)


def collate_text_flat_native(
    input_ids,
    offsets,
    spec: RoleSpanSpec,
    pad_token_id: int,
    pad_left: bool = False,
    pad_to_multiple_of: int = 1,
    packed: bool = False,
    start_indices=None,
) -> dict:
    """Ragged rows given as one flat 1-D id buffer and B + 1 int64 offsets (e.g. from a datasets Arrow column)."""
    out = core().rolespan.collate_flat(
        input_ids,
        offsets,
        native_spec(spec),
        int(pad_token_id),
        bool(pad_left),
        int(pad_to_multiple_of),
        bool(packed),
        start_indices,
    )
    return _result(*out, packed=packed)


def collate_text_chunks_native(
    chunks,
    spec: RoleSpanSpec,
    pad_token_id: int,
    pad_left: bool = False,
    pad_to_multiple_of: int = 1,
    packed: bool = False,
    start_indices=None,
) -> dict:
    """Ragged rows as (flat ids, B + 1 offsets) pairs, one per chunk (an Arrow ChunkedArray), numbered in order."""
    out = core().rolespan.collate_chunks(
        chunks,
        native_spec(spec),
        int(pad_token_id),
        bool(pad_left),
        int(pad_to_multiple_of),
        bool(packed),
        start_indices,
    )
    return _result(*out, packed=packed)
