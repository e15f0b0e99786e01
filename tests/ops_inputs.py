"""Hypothesis strategies for the token-tensor op tests: codes of every layout, dtype and memory layout
(contiguous, transposed views, strided slices), adversarial delays and token ids, ragged segment batches."""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from hypothesis import strategies as st

from fastcollate.ops.checks import CODE_DTYPES, LAYOUTS

VIEWS = ("contiguous", "transposed", "strided")


def as_view(t: torch.Tensor, view: str) -> torch.Tensor:
    """The same values through a different memory layout: contiguous, a transposed view of the last two
    dimensions' transpose (column-major), or every other element of a wider buffer."""
    if view == "contiguous":
        return t.contiguous()
    if view == "transposed":
        return t.transpose(-1, -2).contiguous().transpose(-1, -2)
    wide = torch.full(t.shape[:-1] + (2 * t.shape[-1] + 1,), -7, dtype=t.dtype)
    wide[..., 1::2] = t
    return wide[..., 1::2]


def random_codes(shape, dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-50, 1100, shape, generator=g).to(dtype)


def token_ids(dtype):
    """BOS/PAD candidates: usual ids, -1 (the generation placeholder), -100 and the dtype's extremes."""
    info = torch.iinfo(dtype)
    return st.one_of(st.sampled_from([0, 1, 1024, 1025, -1, -100, info.min, info.max]), st.integers(-200, 2000))


def delay_lists(num_codebooks: int, length: int):
    """None (range(K)), or per-codebook delays: unsorted, repeated, zero, larger than T."""
    small = st.integers(0, max(3, length + 3))
    return st.one_of(st.none(), st.lists(st.one_of(small, st.integers(0, 40)), min_size=num_codebooks,
                                         max_size=num_codebooks))


class PaddedCase(NamedTuple):
    codes: torch.Tensor
    bos: int
    pad: int
    delays: Optional[list]
    layout: str
    mode: str


@st.composite
def padded_cases(draw, max_batch=3, max_length=24):
    layout = draw(st.sampled_from(LAYOUTS))
    dtype = draw(st.sampled_from(CODE_DTYPES))
    k = draw(st.one_of(st.integers(0, 9), st.just(32)))
    t = draw(st.integers(0, max_length))
    shape_kt = (t, k) if layout == "BTK" else (k, t)
    shape = draw(st.sampled_from([shape_kt, (draw(st.integers(0, max_batch)),) + shape_kt]))
    codes = as_view(random_codes(shape, dtype, draw(st.integers(0, 2**31))), draw(st.sampled_from(VIEWS)))
    bos = draw(token_ids(dtype))
    pad = draw(st.one_of(st.just(bos), token_ids(dtype)))  # BOS == PAD included
    return PaddedCase(codes, bos, pad, draw(delay_lists(k, t)), layout, draw(st.sampled_from(["extend", "preserve"])))


class RaggedCase(NamedTuple):
    codes: torch.Tensor
    offsets: torch.Tensor
    bos: int
    pad: int
    delays: Optional[list]
    layout: str
    stream_bos_eos: bool
    return_labels: bool
    no_train: Optional[torch.Tensor]


@st.composite
def ragged_cases(draw):
    layout = draw(st.sampled_from(LAYOUTS))
    dtype = draw(st.sampled_from(CODE_DTYPES))
    k = draw(st.one_of(st.integers(0, 9), st.just(32)))
    lengths = draw(st.lists(st.integers(0, 9), max_size=6))  # zero segments included
    n = sum(lengths)
    codes = random_codes((n, k) if layout == "BTK" else (k, n), dtype, draw(st.integers(0, 2**31)))
    codes = as_view(codes, draw(st.sampled_from(VIEWS)))
    offsets = torch.tensor([0] + lengths).cumsum(0).to(draw(st.sampled_from([torch.int32, torch.int64])))
    return_labels = draw(st.booleans())
    no_train = None
    if return_labels and draw(st.booleans()):
        no_train = torch.tensor(draw(st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths))),
                                dtype=torch.bool)
    bos = draw(token_ids(dtype))
    return RaggedCase(codes, offsets, bos, draw(st.one_of(st.just(bos), token_ids(dtype))),
                      draw(delay_lists(k, max(lengths, default=0))), layout, draw(st.booleans()), return_labels,
                      no_train)
