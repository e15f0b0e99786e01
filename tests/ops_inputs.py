"""Hypothesis strategies for the token-tensor op tests: codes of every layout, dtype and memory layout
(contiguous, transposed views, strided slices), adversarial delays and token ids, ragged segment batches."""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from hypothesis import strategies as st

from fastcollate.delay.checks import CODE_DTYPES, LAYOUTS

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
    return st.one_of(
        st.none(), st.lists(st.one_of(small, st.integers(0, 40)), min_size=num_codebooks, max_size=num_codebooks)
    )


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
        no_train = torch.tensor(
            draw(st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths))), dtype=torch.bool
        )
    bos = draw(token_ids(dtype))
    return RaggedCase(
        codes,
        offsets,
        bos,
        draw(st.one_of(st.just(bos), token_ids(dtype))),
        draw(delay_lists(k, max(lengths, default=0))),
        layout,
        draw(st.booleans()),
        return_labels,
        no_train,
    )


# Sizes the delay kernels divide by (codebooks, output width or length, ragged total: csrc/common/fast_div.h):
# 1, primes, powers of two and their neighbours; LARGE ones reach the multiply-high division's top bits.
DIVISOR_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 61, 64, 65, 127, 128)
LARGE_SIZES = (4093, 4096, 65521, 65536, 65537, 131071)


def split(draw, total: int, parts: int) -> list:
    """`parts` non-negative ints summing to `total`."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


@st.composite
def divisor_padded_cases(draw):
    """Padded cases whose codebooks and output width are drawn from DIVISOR_SIZES and LARGE_SIZES (a large
    width holds one to three codebooks, a large delay making most of it fill, to stay small)."""
    layout = draw(st.sampled_from(LAYOUTS))
    dtype = draw(st.sampled_from(CODE_DTYPES))
    mode = draw(st.sampled_from(["extend", "preserve"]))
    width = draw(st.one_of(st.sampled_from(DIVISOR_SIZES), st.sampled_from(LARGE_SIZES)))
    k = draw(st.sampled_from(DIVISOR_SIZES if width < 4096 else (1, 2, 3)))
    if mode == "extend":  # width = T + max(delays)
        max_delay = draw(st.one_of(st.integers(0, min(width, 40)), st.just(width), st.just(width - 1)))
        t = width - max_delay
        delays = draw(st.lists(st.integers(0, max_delay), min_size=k, max_size=k))
        delays[draw(st.integers(0, k - 1))] = max_delay
    else:  # width = T
        t = width
        delays = draw(st.lists(st.one_of(st.integers(0, 40), st.integers(0, width + 2)), min_size=k, max_size=k))
    shape_kt = (t, k) if layout == "BTK" else (k, t)
    shape = draw(st.sampled_from([shape_kt, (draw(st.sampled_from((1, 2, 3))),) + shape_kt]))
    codes = as_view(random_codes(shape, dtype, draw(st.integers(0, 2**31))), draw(st.sampled_from(VIEWS)))
    bos = draw(token_ids(dtype))
    return PaddedCase(codes, bos, draw(token_ids(dtype)), delays, layout, mode)


@st.composite
def divisor_ragged_cases(draw):
    """Ragged cases whose codebooks and packed output width (the kernels' divisors) are drawn from
    DIVISOR_SIZES and LARGE_SIZES."""
    layout = draw(st.sampled_from(LAYOUTS))
    dtype = draw(st.sampled_from(CODE_DTYPES))
    total = draw(st.one_of(st.sampled_from(DIVISOR_SIZES), st.sampled_from(LARGE_SIZES)))
    k = draw(st.sampled_from(DIVISOR_SIZES if total < 4096 else (1, 2, 3)))
    wrap = draw(st.booleans())
    delays = draw(st.lists(st.integers(0, 3), min_size=k, max_size=k))
    extra = max(delays) + (2 if wrap else 0)
    if extra > total:  # no segment fits: none grows
        delays, wrap, extra = [0] * k, False, 0
    segments = draw(st.integers(1, min(6, total // extra) if extra else 6))
    lengths = split(draw, total - segments * extra, segments)
    codes = random_codes(
        (sum(lengths), k) if layout == "BTK" else (k, sum(lengths)), dtype, draw(st.integers(0, 2**31))
    )
    codes = as_view(codes, draw(st.sampled_from(VIEWS)))
    offsets = torch.tensor([0] + lengths).cumsum(0)
    return_labels = draw(st.booleans())
    bos = draw(token_ids(dtype))
    return RaggedCase(codes, offsets, bos, draw(token_ids(dtype)), delays, layout, wrap, return_labels, None)
