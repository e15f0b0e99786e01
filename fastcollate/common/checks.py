"""Boundary validation shared by the Python code paths.

Every failure is a ValueError that starts with "sample {i}: {field}:" so a user can find the bad sample.
The compiled path (csrc/python/reader.cpp, csrc/higgs_boson/) raises the same messages; the
tests match each message against both backends. Below them, the argument checks every token-tensor op shares
(tensors, devices, ints, out= tensors): a ValueError that names the argument.
"""

from __future__ import annotations

import numbers
import operator
from typing import Optional, Sequence

import torch

INT_DTYPES = (torch.int32, torch.int64)


def sample_error(i: Optional[int], field: str, problem: str) -> ValueError:
    """ "sample {i}: {field}: {problem}" (without the sample part where there is no batch, i None)."""
    return ValueError(f"{field}: {problem}" if i is None else f"sample {i}: {field}: {problem}")


class Missing:
    """Stands for a required field a sample lacks (fastcollate/higgs_boson/sample_fields.py): reading it through
    require() or check_int_tensor() raises `problem`, so the error comes where the field is needed."""

    __slots__ = ("problem",)

    def __init__(self, problem: str):
        self.problem = problem


def require(i: int, field: str, value):
    if isinstance(value, Missing):
        raise sample_error(i, field, value.problem)
    return value


# A tensor with elements and a null data pointer: torch itself would read address 0 (the compiled reader says
# the same: csrc/python/reader.cpp, freed_storage_problem).
FREED_STORAGE = (
    "has no storage (freed, e.g. by untyped_storage().resize_(0)), yet has elements: it was resized or given "
    "other storage while the batch was read, or before"
)


def check_storage(name: str, value) -> None:
    """An op's CPU tensor argument, checked again after every conversion that may run user code: its storage must
    hold what the view reads (ValueError naming it otherwise: torch would read freed memory)."""
    if torch.compiler.is_compiling() or type(value) is not torch.Tensor or value.device.type != "cpu":
        return  # traced (fake tensors: no storage to read) or not a plain CPU tensor
    if value.numel() == 0:
        return
    if value.data_ptr() == 0:
        raise ValueError(f"{name}: {FREED_STORAGE}")
    extent = value.storage_offset() + 1 + sum((n - 1) * s for n, s in zip(value.shape, value.stride()))
    stored = value.untyped_storage().nbytes()
    if extent * value.element_size() > stored:
        raise ValueError(
            f"{name}: its storage holds {stored} bytes, fewer than the view reads (shrunk, e.g. by "
            "untyped_storage().resize_(), while the arguments were read, or before)"
        )


def is_tensor(value) -> bool:
    """A torch.Tensor by its real type (an object whose __class__ claims to be one is not)."""
    return issubclass(type(value), torch.Tensor)


def plain_tensor(i: Optional[int], field: str, value: torch.Tensor) -> torch.Tensor:
    """A tensor subclass read as the plain torch.Tensor over the same storage (TensorBase.as_subclass): what is
    read is the C-level tensor, never what the subclass's overrides (shape, stride, data_ptr, ...) say. The
    compiled reader does the same (csrc/python/reader.cpp, plain_tensor). A wrapper subclass (FakeTensor,
    DTensor) comes back as itself: it has no storage of its own to read."""
    if type(value) is torch.Tensor:
        return value
    plain = torch._C.TensorBase.as_subclass(value, torch.Tensor)
    if type(plain) is not torch.Tensor:
        raise sample_error(
            i,
            field,
            f"expected a torch.Tensor over its own storage, got {type(value).__name__} (a tensor subclass that "
            "wraps others, as FakeTensor or DTensor); pass the tensor it wraps",
        )
    return plain


def plain_arg(value):
    """An op's tensor argument as the plain tensor over its storage (plain_tensor), so the checks, the twin and
    the compiled path read the same metadata; anything else (not a tensor, a wrapper subclass such as the
    FakeTensors of torch.compile) unchanged, for the checks to judge."""
    if type(value) is torch.Tensor or not is_tensor(value) or torch.compiler.is_compiling():
        return value
    plain = torch._C.TensorBase.as_subclass(value, torch.Tensor)
    return plain if type(plain) is torch.Tensor else value


def check_int_tensor(i: int, field: str, value, ndim: int) -> torch.Tensor:
    """A CPU int32/int64 tensor of `ndim` dimensions (a subclass: its plain tensor), else ValueError naming
    sample and field."""
    require(i, field, value)
    if not is_tensor(value):
        raise sample_error(i, field, f"expected a torch.Tensor, got {type(value).__name__}")
    value = plain_tensor(i, field, value)
    if value.layout != torch.strided or value.device.type != "cpu":
        raise sample_error(i, field, f"expected a dense CPU tensor, got {value.layout} on {value.device}")
    if value.dtype not in INT_DTYPES:
        raise sample_error(i, field, f"expected dtype torch.int32 or torch.int64, got {value.dtype}")
    if value.dim() != ndim:
        raise sample_error(i, field, f"expected a {ndim}-D tensor, got shape {tuple(value.shape)}")
    numel = value.numel()
    if numel and numel > 1 + sum((n - 1) * abs(s) for n, s in zip(value.shape, value.stride())):
        # Elements share addresses (an expanded view): fine while their count stays within the storage, a
        # kernel loop over 2**40 copies of one value otherwise.
        stored = value.untyped_storage().nbytes() // value.element_size()
        if numel > stored:
            raise sample_error(
                i,
                field,
                f"expected a view whose elements stay within its storage: {numel} elements "
                f"over {stored} stored (an expanded tensor?); pass a contiguous copy",
            )
    if numel and value.data_ptr() == 0:
        raise sample_error(i, field, FREED_STORAGE)
    return value


def check_reward(i: int, reward):
    """None, or something torch.tensor(..., dtype=float32) takes as one number."""
    if reward is None:
        return None
    if (isinstance(reward, torch.Tensor) and reward.numel() == 1 and not reward.is_complex()) or isinstance(
        reward, numbers.Real
    ):
        try:
            return float(reward)
        except OverflowError:  # an int past a double's range (the compiled path says the same)
            raise sample_error(i, "reward", "is too large to convert to a float") from None
    raise sample_error(i, "reward", f"expected a real number or None, got {type(reward).__name__}")


def index_failure(error: Exception) -> str:
    """How an __index__ failed with something other than TypeError (a 0-d meta tensor's RuntimeError): put
    after the field's usual "expected an int" message, so every failure of a sample's int is a ValueError naming
    the sample and the field, on every backend (csrc/python/reader.cpp: index_failure)."""
    return f"its __index__ raised {type(error).__name__}: {error}"


def check_start_index(i: Optional[int], value, unread_reason: Optional[str] = None):
    """None, or an int by operator.index() (Python and numpy ints; not bools).

    `unread_reason`: why the collator would not read a start_index (RoleSpanSpec.unread_start_index_reason());
    a given one is then an error, never silently ignored. The compiled path raises the same message
    (csrc/python/reader.cpp: read_start_index).
    """
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise sample_error(i, "start_index", f"expected an int or None, got {type(value).__name__}") from None
    except Exception as e:  # an __index__ that fails otherwise (a meta tensor): still the sample's bad field
        problem = f"expected an int or None, got {type(value).__name__} ({index_failure(e)})"
        raise sample_error(i, "start_index", problem) from e
    if unread_reason is not None:
        raise sample_error(i, "start_index", f"is {value}, but {unread_reason}")
    # Turn indices are int64 on every path: past either end, every turn (or none) counts, as before clamping.
    return min(max(value, -(2**63)), 2**63 - 1)


def stored_items(seq) -> tuple:
    """The items a list or tuple stores, as a new tuple: a subclass's own __len__, __iter__ or __getitem__ is never
    called (the compiled reader reads the stored items too: csrc/python/reader.cpp, stored_items)."""
    if isinstance(seq, list):
        return tuple(list.copy(seq))
    if isinstance(seq, tuple):
        return tuple.__getitem__(seq, slice(None))  # a plain tuple of the stored items
    return tuple(seq)


def batch_has_labels(batch) -> bool:
    """Upstream returns labels when any sample has them; a batch mixing None and labels is an error here."""
    with_labels = [s.label_ids is not None for s in batch]
    if any(with_labels) and not all(with_labels):
        i = with_labels.index(False)
        raise sample_error(i, "label_ids", "is None while other samples in the batch have labels")
    return all(with_labels)


def check_batch(batch) -> None:
    if not isinstance(batch, (list, tuple)):
        raise ValueError(f"batch: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("batch: is empty, nothing to collate")


# The argument checks every token-tensor op shares (fastcollate/delay/checks.py and
# fastcollate/rolespan/rolespan_labels_checks.py hold each op's own).

ID_DTYPES = INT_DTYPES  # of the id tensors the ops take


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
