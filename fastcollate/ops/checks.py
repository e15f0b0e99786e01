"""Argument checks of the token-tensor ops: a ValueError that names the argument, never a crash inside.

Shared by the public ops (fastcollate/ops/delay_pattern.py, role_span_labels.py) and their pure-Python twins.
Everything here reads shapes, dtypes and Python values only, so it also runs on meta tensors and while
torch.compile traces. What depends on tensor values (offsets, attention masks) is checked where the values
are read: by the twins here (check_offset_values, row_span) and by the compiled code with the same
messages (csrc/ops/delay_pattern.cpp, csrc/ops/role_span_labels.cpp).
"""

from __future__ import annotations

import operator
from typing import NamedTuple, Optional, Sequence, Tuple

import torch

LAYOUTS = ("BKT", "BTK")
MODES = ("extend", "preserve")
CODE_DTYPES = (torch.int16, torch.int32, torch.int64)
ID_DTYPES = (torch.int32, torch.int64)
MASK_DTYPES = (torch.bool, torch.int32, torch.int64)
INT64_MAX = 2**63 - 1


def _dtypes(dtypes) -> str:
    names = [str(d) for d in dtypes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check_tensor(name: str, value, ndims: Sequence[int], dtypes) -> torch.Tensor:
    """A dense CPU or CUDA (or meta, for shape inference) tensor with one of `ndims` dimensions and `dtypes`."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.layout != torch.strided or value.device.type not in ("cpu", "cuda", "meta"):
        raise ValueError(f"{name}: expected a dense CPU or CUDA tensor, got {value.layout} on {value.device}")
    if value.dtype not in dtypes:
        raise ValueError(f"{name}: expected dtype {_dtypes(dtypes)}, got {value.dtype}")
    if value.dim() not in ndims:
        dims = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{name}: expected a {dims} tensor, got shape {tuple(value.shape)}")
    return value


def check_same_device(name: str, value: torch.Tensor, like_name: str, like: torch.Tensor) -> torch.Tensor:
    """Every tensor of an op on one device: the op runs where its main input is (CUDA kernels read only
    device memory, the CPU code only host memory)."""
    if value.device != like.device:
        raise ValueError(f"{name}: expected a tensor on {like.device} like {like_name}, got one on {value.device}")
    return value


def values_on(values, like: torch.Tensor) -> torch.Tensor:
    """A list the user gave (offsets, flags, start indices) as a tensor where `like` lives: on a CUDA device
    for CUDA inputs (one host-to-device copy), on the CPU otherwise (meta inputs too: fakes read no values)."""
    device = like.device if like.device.type == "cuda" else None
    return torch.tensor(values, device=device)


def check_int(name: str, value) -> int:
    """An int by operator.index() (Python, numpy and 0-d tensor ints), not a bool."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an int, got {type(value).__name__}") from None


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


def check_delays(delays, num_codebooks: int) -> Tuple[int, ...]:
    """One int >= 0 per codebook (unsorted, repeated, larger than T: all fine); None: range(K)."""
    if delays is None:
        return tuple(range(num_codebooks))
    if isinstance(delays, (str, bytes)) or not hasattr(delays, "__iter__"):
        raise ValueError(f"delays: expected a sequence of ints >= 0, got {type(delays).__name__}")
    values = tuple(check_int(f"delays: entry {j}", d) for j, d in enumerate(delays))
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


def check_apply_ragged(codes, offsets, bos_token_id, pad_token_id, delays, layout, stream_bos_eos, return_labels,
                       no_train) -> RaggedArgs:
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
            no_train = values_on([check_bool(f"no_train: entry {j}", v) for j, v in enumerate(no_train)],
                                 codes).bool()
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
    check_tensor("delayed", delayed, (2,), CODE_DTYPES)
    check_choice("layout", layout, LAYOUTS)
    check_bool("stream_bos_eos", stream_bos_eos)
    offsets = check_offsets(offsets, "delayed", delayed)
    k, n = _ragged_dims(delayed, layout)
    delays = check_delays(delays, k)
    extra = max(delays, default=0) + (2 if stream_bos_eos else 0)
    total = n - (offsets.shape[0] - 1) * extra
    if total < 0:  # the per-segment check (with the segment named) needs the offsets' values
        raise ValueError(f"offsets: {offsets.shape[0] - 1} segments need at least {extra} columns each, "
                         f"but delayed has {n} in all")
    return RevertRaggedArgs(offsets, delays, extra, _ragged_shape(k, total, layout))


def check_segment_width(s: int, width: int, extra: int) -> None:
    if width < extra:
        raise ValueError(f"offsets: segment {s} has {width} columns, fewer than the {extra} its delays and "
                         "stream BOS/EOS add")


def check_role_span_labels(input_ids, spec, attention_mask, start_index) -> Optional[torch.Tensor]:
    """Checks the arguments of role_span_labels; returns start_index as an int64 (B,) tensor, or None."""
    from ..rolespan.spec import RoleSpanSpec

    check_tensor("input_ids", input_ids, (2,), ID_DTYPES)
    if not isinstance(spec, RoleSpanSpec):
        raise ValueError(f"spec: expected a RoleSpanSpec, got {type(spec).__name__}")
    rows = input_ids.shape[0]
    if attention_mask is not None:
        check_tensor("attention_mask", attention_mask, (2,), MASK_DTYPES)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(f"attention_mask: expected the shape of input_ids {tuple(input_ids.shape)}, "
                             f"got {tuple(attention_mask.shape)}")
        check_same_device("attention_mask", attention_mask, "input_ids", input_ids)
    if start_index is None:
        return None
    reason = spec.unread_start_index_reason()  # as in every collator: a start_index is never silently ignored
    if reason is not None and (isinstance(start_index, torch.Tensor) or
                               (isinstance(start_index, (list, tuple)) and any(v is not None for v in start_index))):
        raise ValueError(f"start_index: is given, but {reason}")
    if isinstance(start_index, torch.Tensor):
        check_tensor("start_index", start_index, (1,), ID_DTYPES)
        check_same_device("start_index", start_index, "input_ids", input_ids)
    elif isinstance(start_index, (list, tuple)):
        # None: every turn, as ChatCollator reads a feature without start_index (the state machine's 0).
        start_index = values_on([0 if v is None else check_int(f"start_index: entry {j}", v)
                                 for j, v in enumerate(start_index)], input_ids).long()
    else:
        raise ValueError(f"start_index: expected a 1-D int tensor or a list (one entry per row), "
                         f"got {type(start_index).__name__}")
    if start_index.shape[0] != rows:
        raise ValueError(f"start_index: expected {rows} entries (one per row), got {start_index.shape[0]}")
    return start_index


def row_span(row: int, mask: Sequence[int]) -> Tuple[int, int]:
    """The columns [begin, end) of a row's tokens: its attention mask is 0 or 1 everywhere, with one run of 1s
    at the start (right padding) or at the end (left padding); no 1 at all is an empty row."""
    for c, v in enumerate(mask):
        if v not in (0, 1):
            raise ValueError(f"attention_mask: row {row} has {int(v)} at column {c}, expected 0 or 1")
    ones = [c for c, v in enumerate(mask) if v == 1]
    if not ones:
        return 0, 0
    begin, end = ones[0], ones[-1] + 1
    if len(ones) != end - begin or (begin != 0 and end != len(mask)):
        raise ValueError(f"attention_mask: row {row} is not one run of 1s at the start (right padding) or the end "
                         "(left padding)")
    return begin, end


def _byte_range(t: torch.Tensor):
    """[first, last) byte addresses a tensor's elements occupy, or None when it has none."""
    if t.numel() == 0:
        return None
    first = t.data_ptr()
    span = sum((size - 1) * stride for size, stride in zip(t.shape, t.stride()))
    return first, first + (span + 1) * t.element_size()


def _has_internal_overlap(t: torch.Tensor) -> bool:
    """Two elements at one address (an expanded or broadcast view): every dimension must step past all the
    smaller-stride ones (a sufficient test; exotic interleavings are rejected too)."""
    reach = 0  # elements the smaller-stride dimensions span
    for stride, size in sorted((st, sz) for sz, st in zip(t.shape, t.stride()) if sz > 1):
        if stride <= reach:
            return True
        reach += stride * (size - 1)
    return False


def check_out(name: str, value, shape, dtype: torch.dtype, inputs) -> torch.Tensor:
    """An out= tensor: `shape` and `dtype` on the inputs' device, no element written twice, and (for real
    tensors) no byte shared with any of `inputs` ((name, tensor or None) pairs) or another output."""
    check_tensor(name, value, (len(shape),), (dtype,))
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    device = next(t.device for _, t in inputs if t is not None)
    if value.device != device:
        raise ValueError(f"{name}: expected a tensor on {device} like the inputs, got {value.device}")
    if device.type not in ("cpu", "cuda") or torch.compiler.is_compiling():
        return value  # no addresses to compare
    if _has_internal_overlap(value):
        raise ValueError(f"{name}: has elements that share memory (an expanded view?); it would be written twice")
    mine = _byte_range(value)
    for other_name, other in inputs:
        theirs = None if other is None else _byte_range(other)
        if mine and theirs and mine[0] < theirs[1] and theirs[0] < mine[1]:
            raise ValueError(f"{name}: overlaps {other_name} in memory")
    return value


def check_apply_out(out, codes, shape):
    """out=(delayed, generation_mask) of apply_delay_pattern."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError(f"out: expected a pair of tensors (delayed, generation_mask), got {type(out).__name__}")
    delayed = check_out("out[0]", out[0], shape, codes.dtype, [("codes", codes)])
    generation_mask = check_out("out[1]", out[1], shape, codes.dtype, [("codes", codes), ("out[0]", delayed)])
    return delayed, generation_mask
