# _core.delay (csrc/python/bind_delay.cpp, csrc/delay/): the delay-pattern ops. They write into outputs the
# Python layer allocated (fastcollate/delay/native.py); every tensor argument is checked again here. apply, ...:
# the CPU fills (dense CPU tensors). kernel_apply, ...: the kernels on CUDA device `device` and `stream`, or with
# device -1 the CPU grid runner that executes the same kernel bodies for every index (the CPU tests); `reverse`
# runs the grid runner's threads in descending order (a race between threads would show).
from typing import Optional, Sequence, Tuple

import torch

def apply(
    codes: torch.Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: Sequence[int],
    btk: bool,
    extend: bool,
    delayed: torch.Tensor,
    generation_mask: torch.Tensor,
    per_element: bool = False,
) -> None:
    """Delay pattern into the given outputs (fastcollate.ops.apply_delay_pattern); per_element: the
    one-element kernel for every index (the CUDA form), for tests."""

def apply_ragged(
    codes: torch.Tensor,
    offsets: torch.Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: Sequence[int],
    btk: bool,
    stream_bos_eos: bool,
    out: torch.Tensor,
    new_offsets: torch.Tensor,
    labels: Optional[torch.Tensor],
    no_train: Optional[torch.Tensor],
    per_element: bool = False,
) -> None:
    """Delay pattern of packed segments into the given outputs (fastcollate.ops.apply_delay_pattern_ragged)."""

def apply_sizes(batch: int, codebooks: int, length: int, delays: Sequence[int], extend: bool) -> Tuple[int, int]:
    """(width, numel) of apply's outputs, overflow-checked: the size arithmetic without any allocation."""

def revert(
    delayed: torch.Tensor,
    delays: Sequence[int],
    btk: bool,
    start_index: int,
    out: torch.Tensor,
    per_element: bool = False,
) -> None:
    """Undo the delay pattern into `out` (fastcollate.ops.revert_delay_pattern)."""

def revert_ragged(
    delayed: torch.Tensor,
    offsets: torch.Tensor,
    delays: Sequence[int],
    btk: bool,
    stream_bos_eos: bool,
    out: torch.Tensor,
    new_offsets: torch.Tensor,
    per_element: bool = False,
) -> None:
    """Undo the delay pattern of packed segments (fastcollate.ops.revert_delay_pattern_ragged)."""

def kernel_apply(
    codes: torch.Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: Sequence[int],
    btk: bool,
    extend: bool,
    delayed: torch.Tensor,
    generation_mask: torch.Tensor,
    device: int,
    stream: int = 0,
    reverse: bool = False,
    index64: bool = False,
) -> None:
    """apply_delay_pattern's kernel: on CUDA device `device` and `stream`, or (device -1) the grid runner.
    index64 (tests): divide indices in 64 bits as for outputs of over 2^32 elements."""

def kernel_revert(
    delayed: torch.Tensor,
    delays: Sequence[int],
    btk: bool,
    start_index: int,
    out: torch.Tensor,
    device: int,
    stream: int = 0,
    reverse: bool = False,
    index64: bool = False,
) -> None:
    """revert_delay_pattern's kernel (see kernel_apply)."""

def kernel_apply_ragged(
    codes: torch.Tensor,
    offsets: torch.Tensor,
    bos_token_id: int,
    pad_token_id: int,
    delays: Sequence[int],
    btk: bool,
    stream_bos_eos: bool,
    out: torch.Tensor,
    new_offsets: torch.Tensor,
    labels: Optional[torch.Tensor],
    no_train: Optional[torch.Tensor],
    status: torch.Tensor,
    device: int,
    stream: int = 0,
    reverse: bool = False,
    index64: bool = False,
) -> None:
    """apply_delay_pattern_ragged's kernels; status (int32, 1) is set to 1 when the offsets are invalid."""

def kernel_revert_ragged(
    delayed: torch.Tensor,
    offsets: torch.Tensor,
    delays: Sequence[int],
    btk: bool,
    stream_bos_eos: bool,
    out: torch.Tensor,
    new_offsets: torch.Tensor,
    status: torch.Tensor,
    device: int,
    stream: int = 0,
    reverse: bool = False,
    index64: bool = False,
) -> None:
    """revert_delay_pattern_ragged's kernels (see kernel_apply_ragged)."""
