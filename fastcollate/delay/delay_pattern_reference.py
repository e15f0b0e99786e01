"""The delay pattern in plain torch, one readable function per op: the specification the compiled ops are
tested against bit for bit, and what runs when the extension is missing.

Codebook k of a (K, T) clip is shifted right by delays[k] columns (MusicGen's pattern; the default delays
are range(K)). The columns before its codes hold BOS, those after them PAD:

    delays = (0, 1, 2), T = 3, mode "extend" (width T + max(delays)):
        [ a0  a1  a2  P   P  ]          generation mask: [ a0  a1  a2  -1  -1 ]
        [ B   b0  b1  b2  P  ]                           [ B   b0  b1  b2  -1 ]
        [ B   B   c0  c1  c2 ]                           [ B   B   c0  c1  c2 ]

mode "preserve" keeps the width T and drops what the delay pushes past it. The generation mask (upstream
`build_delay_pattern_mask`'s second output) is the delayed ids with -1 where PAD follows the codes: the
positions a model generates. csrc/delay/ holds the compiled statement of the same layout.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch

from ..common.labels import IGNORE
from .checks import (
    check_apply,
    check_apply_ragged,
    check_code_values,
    check_codebook_size,
    check_offset_values,
    check_ragged_values,
    check_revert,
    check_revert_ragged,
    check_segment_width,
)

GENERATION_PLACEHOLDER = -1


class RaggedDelayed(NamedTuple):
    """The ragged apply's result: packed delayed codes, their S + 1 offsets, and the int64 labels (or None)."""

    codes: torch.Tensor
    offsets: torch.Tensor
    labels: Optional[torch.Tensor]


class RaggedCodes(NamedTuple):
    """The ragged revert's result: packed codes and their S + 1 offsets."""

    codes: torch.Tensor
    offsets: torch.Tensor


def _to_bkt(x: torch.Tensor, layout: str) -> torch.Tensor:
    """A (B, K, T) view of a (K, T) / (T, K) / (B, K, T) / (B, T, K) tensor."""
    x = x if x.dim() == 3 else x.unsqueeze(0)
    return x.transpose(1, 2) if layout == "BTK" else x


def _from_bkt(x: torch.Tensor, layout: str, ndim: int) -> torch.Tensor:
    """The (B, K, T) result back in the input's layout and rank, contiguous."""
    x = x.transpose(1, 2) if layout == "BTK" else x
    return (x if ndim == 3 else x[0]).contiguous()


def apply_delay_pattern(
    codes, bos_token_id, pad_token_id, *, delays=None, layout="BKT", mode="extend", codebook_size=None
):
    """(delayed, generation_mask), both of codes' dtype and layout; with codebook_size, codes outside
    [0, codebook_size) are a ValueError."""
    args = check_apply(codes, bos_token_id, pad_token_id, delays, layout, mode)
    check_code_values(codes, check_codebook_size(codebook_size), layout)
    x = _to_bkt(codes, layout)
    batch, num_codebooks, length = x.shape
    width = args.shape[-1] if layout == "BKT" else args.shape[-2]
    delayed = torch.full((batch, num_codebooks, width), args.pad, dtype=codes.dtype, device=codes.device)
    for k, d in enumerate(args.delays):
        kept = max(0, min(length, width - d))  # "preserve" drops the codes pushed past the width
        delayed[:, k, :d] = args.bos
        delayed[:, k, d : d + kept] = x[:, k, :kept]
    generation_mask = delayed.clone()
    for k, d in enumerate(args.delays):
        generation_mask[:, k, d + length :] = GENERATION_PLACEHOLDER
    return _from_bkt(delayed, layout, codes.dim()), _from_bkt(generation_mask, layout, codes.dim())


def revert_delay_pattern(delayed, *, delays=None, layout="BKT", start_index=0):
    """Codes [start_index, width - max(delays)) of every row: the codes whose every codebook is present."""
    args = check_revert(delayed, delays, layout, start_index)
    x = _to_bkt(delayed, layout)
    codes = torch.empty((x.shape[0], x.shape[1], args.length), dtype=delayed.dtype, device=delayed.device)
    for k, d in enumerate(args.delays):
        first = args.start_index + d
        codes[:, k] = x[:, k, first : first + args.length]
    return _from_bkt(codes, layout, delayed.dim())


def _column(value: int, num_codebooks: int, like: torch.Tensor, dtype) -> torch.Tensor:
    return torch.full((num_codebooks, 1), value, dtype=dtype, device=like.device)


def _offsets_after(widths, like: torch.Tensor) -> torch.Tensor:
    """The new offsets, on the device of the op's tensors (the twins run on any device)."""
    return torch.tensor([0] + widths, dtype=torch.int64, device=like.device).cumsum(0)


def apply_delay_pattern_ragged(
    codes,
    offsets,
    bos_token_id,
    pad_token_id,
    *,
    delays=None,
    layout="BKT",
    stream_bos_eos=False,
    return_labels=False,
    no_train=None,
    codebook_size=None,
) -> RaggedDelayed:
    """Every segment codes[:, offsets[s]:offsets[s + 1]] delayed on its own (wrapped in a stream BOS and EOS
    first when asked), then packed again. Labels: the codes and the stream EOS, -100 elsewhere, all -100 for
    a segment flagged no_train. With codebook_size, codes outside [0, codebook_size) are a ValueError."""
    args = check_apply_ragged(
        codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train
    )
    check_code_values(codes, check_codebook_size(codebook_size), layout)
    x = codes.T if layout == "BTK" else codes  # (K, N)
    k = x.shape[0]
    bounds = check_ragged_values(args, x.shape[1], codes.element_size(), return_labels)
    pieces, label_pieces = [], []
    for s, (a, b) in enumerate(zip(bounds, bounds[1:])):
        segment, labels = x[:, a:b], x[:, a:b].long()
        if stream_bos_eos:
            segment = torch.cat(
                [_column(args.bos, k, x, codes.dtype), segment, _column(args.pad, k, x, codes.dtype)], dim=1
            )
            labels = torch.cat(
                [_column(IGNORE, k, x, torch.int64), labels, _column(args.pad, k, x, torch.int64)], dim=1
            )
        pieces.append(apply_delay_pattern(segment, args.bos, args.pad, delays=args.delays)[0])
        if return_labels:
            labels = apply_delay_pattern(labels, IGNORE, IGNORE, delays=args.delays)[0]
            no_train = args.no_train is not None and bool(args.no_train[s])
            label_pieces.append(torch.full_like(labels, IGNORE) if no_train else labels)
    delayed = torch.cat([x.new_empty((k, 0))] + pieces, dim=1)
    new_offsets = _offsets_after([p.shape[1] for p in pieces], x)
    labels = torch.cat([x.new_empty((k, 0), dtype=torch.int64)] + label_pieces, dim=1) if return_labels else None
    if layout == "BTK":
        delayed = delayed.T.contiguous()
        labels = labels.T.contiguous() if labels is not None else None
    return RaggedDelayed(delayed, new_offsets, labels)


def revert_delay_pattern_ragged(delayed, offsets, *, delays=None, layout="BKT", stream_bos_eos=False) -> RaggedCodes:
    """Every segment reverted on its own (its stream BOS and EOS dropped when asked), then packed again."""
    args = check_revert_ragged(delayed, offsets, delays, layout, stream_bos_eos)
    x = delayed.T if layout == "BTK" else delayed  # (K, N')
    bounds = check_offset_values(args.offsets.tolist(), x.shape[1])
    pieces = []
    for s, (a, b) in enumerate(zip(bounds, bounds[1:])):
        check_segment_width(s, b - a, args.extra)
        stream = revert_delay_pattern(x[:, a:b], delays=args.delays)
        pieces.append(stream[:, 1:-1] if stream_bos_eos else stream)
    codes = torch.cat([x.new_empty((x.shape[0], 0))] + pieces, dim=1)
    new_offsets = _offsets_after([p.shape[1] for p in pieces], x)
    return RaggedCodes(codes.T.contiguous() if layout == "BTK" else codes, new_offsets)
