"""Argument checks of the delay-pattern ops: a ValueError that names the argument, never a crash inside.

Shared by the public ops (fastcollate/delay/delay_pattern.py) and their pure-Python twins. Everything here
reads shapes, dtypes and Python values only, so it also runs on meta tensors and while torch.compile traces.
What depends on tensor values (offsets) is checked where the values are read: by the twins here
(check_offset_values) and by the compiled code with the same messages. The checks every op shares (tensors,
devices, ints, out= tensors) are in fastcollate/common/checks.py.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple

import torch

from ..common.checks import ID_DTYPES, check_int, check_out, check_same_device, check_tensor, values_on
from ..common.code_range import code_range_problem
from ..common.sizes import INT64_MAX, check_fits_memory

LAYOUTS = ("BKT", "BTK")
MODES = ("extend", "preserve")
CODE_DTYPES = (torch.int16, torch.int32, torch.int64)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected a bool, got {type(value).__name__}")
    return value


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def check_token_id(name: str, value, dtype: torch.dtype) -> int:
    value = check_int(name, value)
    info = torch.iinfo(dtype)
    if not info.min <= value <= info.max:
        raise ValueError(f"{name}: {value} does not fit {dtype}")
    return value


def delay_values(delays) -> Optional[Tuple[int, ...]]:
    """The delays as Python ints, read before any tensor argument is: an entry's __index__ is user code, which
    must not change a tensor after its checks (check_delays then checks the values)."""
    if delays is None:
        return None
    if isinstance(delays, (str, bytes)) or not hasattr(delays, "__iter__"):
        raise ValueError(f"delays: expected a sequence of ints >= 0, got {type(delays).__name__}")
    return tuple(check_int(f"delays: entry {j}", d) for j, d in enumerate(delays))


def check_delays(delays, num_codebooks: int) -> Tuple[int, ...]:
    """One int >= 0 per codebook (unsorted, repeated, larger than T: all fine); None: range(K)."""
    if delays is None:
        return tuple(range(num_codebooks))
    values = delay_values(delays)
    if len(values) != num_codebooks:
        raise ValueError(f"delays: expected {num_codebooks} entries (one per codebook), got {len(values)}")
    for j, d in enumerate(values):
        if d < 0:
            raise ValueError(f"delays: entry {j} = {d} is negative")
        if d > INT64_MAX:
            raise ValueError(f"delays: entry {j} = {d} does not fit int64")
    return values


def check_size(value: int, what: str) -> int:
    """A size computed with Python ints (exact past 2**31 and 2**63), checked against int64 as C++ does.
    Output sizes are checked in bytes (what torch.empty needs to fit), the compiled code's in elements."""
    if value > INT64_MAX:
        raise ValueError(f"{what} overflows int64")
    return value


def logical_dims(shape, layout: str) -> Tuple[int, int, int]:
    """(B, K, T) of a (K, T) / (T, K) or (B, K, T) / (B, T, K) shape; B = 1 for 2-D."""
    *batch, a, b = shape
    k, t = (b, a) if layout == "BTK" else (a, b)
    return (batch[0] if batch else 1), k, t


def layout_shape(ndim: int, batch: int, num_codebooks: int, length: int, layout: str) -> Tuple[int, ...]:
    """The shape, in `layout`, of a logical (B, K, T) output of an `ndim`-D input."""
    shape = (length, num_codebooks) if layout == "BTK" else (num_codebooks, length)
    return (batch,) + shape if ndim == 3 else shape


class ApplyArgs(NamedTuple):
    bos: int
    pad: int
    delays: Tuple[int, ...]
    shape: Tuple[int, ...]  # of both outputs, in the input's layout
    length: int  # T, codes per row of the input


def check_apply(codes, bos_token_id, pad_token_id, delays, layout, mode) -> ApplyArgs:
    delays = delay_values(delays)
    check_tensor("codes", codes, (2, 3), CODE_DTYPES)
    check_choice("layout", layout, LAYOUTS)
    check_choice("mode", mode, MODES)
    bos = check_token_id("bos_token_id", bos_token_id, codes.dtype)
    pad = check_token_id("pad_token_id", pad_token_id, codes.dtype)
    batch, k, t = logical_dims(codes.shape, layout)
    delays = check_delays(delays, k)
    width = check_size(t + max(delays, default=0), "delays: the output width") if mode == "extend" else t
    check_size(2 * batch * k * width * codes.element_size(), "codes: the output size")  # both outputs
    return ApplyArgs(bos, pad, delays, layout_shape(codes.dim(), batch, k, width, layout), t)


class RevertArgs(NamedTuple):
    delays: Tuple[int, ...]
    start_index: int
    shape: Tuple[int, ...]
    length: int  # codes per output row


def check_revert(delayed, delays, layout, start_index) -> RevertArgs:
    delays = delay_values(delays)
    check_tensor("delayed", delayed, (2, 3), CODE_DTYPES)
    check_choice("layout", layout, LAYOUTS)
    start = check_int("start_index", start_index)
    if start < 0:
        raise ValueError(f"start_index: expected an int >= 0, got {start}")
    if start > INT64_MAX:
        raise ValueError(f"start_index: {start} does not fit int64")
    batch, k, width = logical_dims(delayed.shape, layout)
    delays = check_delays(delays, k)
    # Only the codes whose every codebook is present come back (streaming: the buffer so far).
    length = max(0, width - max(delays, default=0) - start)
    return RevertArgs(delays, start, layout_shape(delayed.dim(), batch, k, length, layout), length)


def check_offsets(offsets, like_name: str, like: torch.Tensor) -> torch.Tensor:
    """A 1-D int32/int64 tensor (or a sequence of ints, made one) of S + 1 segment bounds, on like's device."""
    if not isinstance(offsets, torch.Tensor):
        if isinstance(offsets, (str, bytes)) or not hasattr(offsets, "__iter__"):
            raise ValueError(f"offsets: expected a 1-D int tensor or a sequence of ints, got {type(offsets).__name__}")
        offsets = values_on([check_int(f"offsets: entry {j}", v) for j, v in enumerate(offsets)], like).long()
    check_tensor("offsets", offsets, (1,), ID_DTYPES)
    check_same_device("offsets", offsets, like_name, like)
    if offsets.shape[0] < 1:
        raise ValueError("offsets: expected at least one entry (S + 1 for S segments), got none")
    return offsets


def check_offset_values(offsets: Sequence[int], n_cols: int) -> Sequence[int]:
    """Segment bounds: start at 0, never decrease, end at the number of columns (all of them are covered)."""
    if offsets[0] != 0:
        raise ValueError(f"offsets: entry 0 = {offsets[0]}, expected 0")
    for j in range(1, len(offsets)):
        if offsets[j] < offsets[j - 1]:
            raise ValueError(f"offsets: decreases at entry {j} ({offsets[j - 1]} > {offsets[j]})")
    if offsets[-1] != n_cols:
        raise ValueError(f"offsets: last entry = {offsets[-1]}, expected {n_cols} (the number of columns)")
    return offsets


def check_output_memory(numel: int, elem_bytes: int) -> None:
    """Before an op allocates an output of `numel` values of `elem_bytes` each on the host: one larger than the
    machine's memory is a RuntimeError naming delays (what grows an output past its input), on every backend."""
    check_fits_memory(numel * elem_bytes, "delays: the output")


def check_ragged_values(args: "RaggedArgs", n_cols: int, elem_bytes: int, return_labels: bool) -> Sequence[int]:
    """What a ragged apply checks before allocating anything: the offsets' values (the twin's first check), then
    its largest output against the machine's memory. Returns the offsets as a list."""
    bounds = check_offset_values(args.offsets.tolist(), n_cols)
    check_output_memory(args.shape[0] * args.shape[1], 8 if return_labels else elem_bytes)
    return bounds


class RaggedArgs(NamedTuple):
    offsets: torch.Tensor
    bos: int
    pad: int
    delays: Tuple[int, ...]
    no_train: Optional[torch.Tensor]
    shape: Tuple[int, ...]  # of the delayed codes (and labels), in the input's layout


def _ragged_dims(tensor, layout) -> Tuple[int, int]:
    """(K, N) of a packed (K, N) / (N, K) tensor."""
    return (tensor.shape[1], tensor.shape[0]) if layout == "BTK" else tuple(tensor.shape)


def _ragged_shape(k: int, n: int, layout: str) -> Tuple[int, int]:
    return (n, k) if layout == "BTK" else (k, n)


def check_apply_ragged(
    codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels, no_train
) -> RaggedArgs:
    delays = delay_values(delays)
    check_tensor("codes", codes, (2,), CODE_DTYPES)
    check_choice("layout", layout, LAYOUTS)
    check_bool("stream_bos_eos", stream_bos_eos)
    check_bool("return_labels", return_labels)
    offsets = check_offsets(offsets, "codes", codes)
    bos = check_token_id("bos_token_id", bos_token_id, codes.dtype)
    pad = check_token_id("pad_token_id", pad_token_id, codes.dtype)
    k, n = _ragged_dims(codes, layout)
    delays = check_delays(delays, k)
    segments = offsets.shape[0] - 1
    if no_train is not None:
        if not return_labels:
            raise ValueError("no_train: is only read with labels (return_labels=True)")
        if isinstance(no_train, (list, tuple)):
            no_train = values_on([check_bool(f"no_train: entry {j}", v) for j, v in enumerate(no_train)], codes).bool()
        check_tensor("no_train", no_train, (1,), (torch.bool,))
        check_same_device("no_train", no_train, "codes", codes)
        if no_train.shape[0] != segments:
            raise ValueError(f"no_train: expected {segments} entries (one per segment), got {no_train.shape[0]}")
    # Every segment gains max(delays) columns, plus its stream BOS and EOS.
    extra = check_size(max(delays, default=0) + (2 if stream_bos_eos else 0), "delays: the output width")
    total = check_size(n + segments * extra, "codes: the output size")
    check_size(k * total * 8, "codes: the output size")  # the int64 labels
    return RaggedArgs(offsets, bos, pad, delays, no_train, _ragged_shape(k, total, layout))


class RevertRaggedArgs(NamedTuple):
    offsets: torch.Tensor
    delays: Tuple[int, ...]
    extra: int  # columns each segment loses
    shape: Tuple[int, ...]


def check_revert_ragged(delayed, offsets, delays, layout, stream_bos_eos) -> RevertRaggedArgs:
    delays = delay_values(delays)
    check_tensor("delayed", delayed, (2,), CODE_DTYPES)
    check_choice("layout", layout, LAYOUTS)
    check_bool("stream_bos_eos", stream_bos_eos)
    offsets = check_offsets(offsets, "delayed", delayed)
    k, n = _ragged_dims(delayed, layout)
    delays = check_delays(delays, k)
    extra = max(delays, default=0) + (2 if stream_bos_eos else 0)
    total = n - (offsets.shape[0] - 1) * extra
    if total < 0:  # the per-segment check (with the segment named) needs the offsets' values
        raise ValueError(
            f"offsets: {offsets.shape[0] - 1} segments need at least {extra} columns each, but delayed has {n} in all"
        )
    return RevertRaggedArgs(offsets, delays, extra, _ragged_shape(k, total, layout))


def check_segment_width(s: int, width: int, extra: int) -> None:
    if width < extra:
        raise ValueError(
            f"offsets: segment {s} has {width} columns, fewer than the {extra} its delays and stream BOS/EOS add"
        )


def check_apply_out(out, codes, shape):
    """out=(delayed, generation_mask) of apply_delay_pattern."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError(f"out: expected a pair of tensors (delayed, generation_mask), got {type(out).__name__}")
    delayed = check_out("out[0]", out[0], shape, codes.dtype, [("codes", codes)])
    generation_mask = check_out("out[1]", out[1], shape, codes.dtype, [("codes", codes), ("out[0]", delayed)])
    return delayed, generation_mask


def check_codebook_size(codebook_size) -> Optional[int]:
    if codebook_size is None:
        return None
    size = check_int("codebook_size", codebook_size)
    if size < 1:
        raise ValueError(f"codebook_size: expected None or an int >= 1, got {size}")
    return size


def check_code_values(codes: torch.Tensor, codebook_size: Optional[int], layout: str) -> None:
    """With a codebook_size, every code lies in [0, codebook_size): a ValueError names the first code outside
    (its batch row, then frame, then codebook). Reads the values (one tensor pass), so the public ops call it
    on real tensors only, never on meta ones; without a codebook_size nothing is read (the ops also delay
    labels, whose -100 is no code)."""
    if codebook_size is None or codes.device.type == "meta":
        return
    view = codes if codes.dim() == 3 else codes[None]  # a 2-D input (one clip, or packed segments): one row
    if layout == "BTK":
        view = view.transpose(-1, -2)  # (B, K, T)
    bad = ((view < 0) | (view >= codebook_size)).flatten(1).any(1)
    if not bool(bad.any()):
        return
    b = int(torch.nonzero(bad)[0])
    where = f" (batch row {b})" if codes.dim() == 3 else ""
    raise ValueError(f"codes: {code_range_problem(view[b], codebook_size, None, None, where=where)}")
