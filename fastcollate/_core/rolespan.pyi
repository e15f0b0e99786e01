# _core.rolespan (csrc/python/bind_rolespan.cpp, csrc/rolespan/): role-span masking. The kernel_* functions run
# the row kernel on a CUDA device and stream, or with device -1 on the CPU grid runner that executes the same
# kernel bodies for every index (the CPU tests); `reverse` runs the grid runner's threads in descending order.
from typing import Optional, Sequence, Tuple

import torch

class RoleSpanSpecNative:
    """A RoleSpanSpec as flat arrays (RoleSpanSpec.to_native()); build once per collator."""

    def __init__(
        self,
        *,
        mode: int,
        turns: int,
        learn_end_of_turn: bool,
        learn_header: bool,
        turn_start: Sequence[int],
        header_end: Sequence[int],
        role_ids: Sequence[int],
        role_offsets: Sequence[int],
        role_learned: Sequence[bool],
        end_of_turn: Sequence[int],
        always_masked: Sequence[int],
    ) -> None: ...

# (input_ids, labels, attention_mask (padded) or position_ids (packed), cu_seqlens (int32, B + 1; packed only),
#  num_learned (B,), max_seqlen): int64 (B, W) padded or (1, T) packed.
RoleSpanTuple = Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Optional[torch.Tensor], torch.Tensor, int]

def collate(
    rows: Sequence[object],
    spec: RoleSpanSpecNative,
    pad_token_id: int,
    pad_left: bool,
    pad_to_multiple_of: int,
    packed: bool,
    start_indices: Optional[Sequence[Optional[int]]] = None,
) -> RoleSpanTuple:
    """Mask labels by role spans and pad (or pack) 1-D int32/int64 rows (tensors or buffers) in one native pass."""

def collate_flat(
    input_ids: object,
    offsets: object,
    spec: RoleSpanSpecNative,
    pad_token_id: int,
    pad_left: bool,
    pad_to_multiple_of: int,
    packed: bool,
    start_indices: Optional[Sequence[Optional[int]]] = None,
) -> RoleSpanTuple:
    """The same from one flat 1-D id buffer and B + 1 int64 offsets."""

def collate_chunks(
    chunks: Sequence[Tuple[object, object]],
    spec: RoleSpanSpecNative,
    pad_token_id: int,
    pad_left: bool,
    pad_to_multiple_of: int,
    packed: bool,
    start_indices: Optional[Sequence[Optional[int]]] = None,
) -> RoleSpanTuple:
    """The same from (flat ids, B + 1 offsets) pairs, one per chunk (an Arrow ChunkedArray), rows in order."""

def labels(
    input_ids: torch.Tensor,
    attention_mask: Optional[torch.Tensor],
    start_index: Optional[torch.Tensor],
    spec: RoleSpanSpecNative,
    out: torch.Tensor,
) -> None:
    """Role-span labels of a padded (B, T) batch into `out` (int64, rows of unit stride): the role_span_labels
    op on the CPU; every tensor argument is a dense CPU tensor, checked again here."""

def kernel_labels(
    input_ids: torch.Tensor,
    attention_mask: Optional[torch.Tensor],
    start_index: Optional[torch.Tensor],
    spec: RoleSpanSpecNative,
    out: torch.Tensor,
    status: Optional[torch.Tensor],
    device: int,
    stream: int = 0,
    reverse: bool = False,
    stage_limit: int = -1,
    kernel: Optional[str] = None,
) -> None:
    """role_span_labels' kernel (a parallel row kernel); status set to 1 on an invalid mask row (None without
    attention_mask); stage_limit >= 0: rows of more tokens are not staged in shared memory (tests); kernel:
    "scan" or "compact", None for the process-wide choice (set_kernel)."""

def kernel_collate(
    rows: Sequence[object],
    spec: RoleSpanSpecNative,
    pad_token_id: int,
    pad_left: bool,
    pad_to_multiple_of: int,
    packed: bool,
    start_indices: Optional[Sequence[Optional[int]]],
    device: int,
    stream: int = 0,
    reverse: bool = False,
    stage_limit: int = -1,
    kernel: Optional[str] = None,
) -> RoleSpanTuple:
    """collate through one staging buffer and the row kernel; the outputs on the target; stage_limit and kernel:
    see kernel_labels."""

def set_kernel(name: str) -> str:
    """Internal, for A/B runs: the row kernel of the calls that name none ("scan", the default, or "compact");
    returns the previous one."""

def kernel() -> str:
    """The row kernel of the calls that name none (FASTCOLLATE_ROLESPAN_KERNEL, read on first use, or
    set_kernel)."""
