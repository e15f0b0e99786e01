# Type stub of the compiled extension (csrc/bindings.cpp and csrc/python/register_*.cpp). The extension reads
# tensors through their Python attributes and never links libtorch, so every tensor it returns was made by a
# torch.empty call from Python: ordinary CPU tensors. tests/test_typing.py checks that these names and
# parameters are the module's.
from typing import List, Optional, Sequence, Tuple

import torch

__version__: str
cuda_built: bool

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

class HiggsOptions:
    """Options of the compiled Higgs Audio collation (built once per collator)."""

    def __init__(
        self,
        *,
        audio_in_token_id: int,
        audio_out_token_id: int,
        pad_token_id: int,
        audio_stream_bos_id: int,
        audio_stream_eos_id: int,
        round_to: int,
        pad_left: bool,
        return_audio_in_tokens: bool,
        audio_num_codebooks: int,
        use_delay_pattern: bool,
        disable_audio_codes_transform: bool,
        mask_audio_out_token_label: bool,
        drop_rewards: bool,
        label_spec: Optional[RoleSpanSpecNative] = None,
        start_index_unread: str = "",
        allowed_keys: Sequence[str] = ...,
        unknown_key_problem: str = "",
    ) -> None: ...

# (input_ids, attention_mask, label_ids, audio_in_ids, audio_in_ids_start, audio_out_ids, audio_out_ids_start,
#  label_audio_ids, audio_out_ids_start_group_loc, reward, rows_without_learned_text): int64 tensors, None where
# the batch has no such field (no labels, return_audio_in_tokens=False, no audio-out), reward float32, and the
# count of rows without a learned text label. fastcollate/higgs/native.py wraps them as HiggsAudioBatchInput.
HiggsTuple = Tuple[
    torch.Tensor, torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor],
    torch.Tensor, torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor], torch.Tensor, int,
]

def collate_higgs(batch: Sequence[object], options: HiggsOptions,
                  chunk_counts: Optional[Sequence[int]] = None) -> HiggsTuple:
    """Collate ChatMLDatasetSample-like objects (or Mappings) in one native pass."""

# (input_ids, labels, attention_mask (padded) or position_ids (packed), cu_seqlens (int32, B + 1; packed only),
#  num_learned (B,), max_seqlen): int64 (B, W) padded or (1, T) packed.
RoleSpanTuple = Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Optional[torch.Tensor], torch.Tensor, int]

def collate_rolespan(rows: Sequence[object], spec: RoleSpanSpecNative, pad_token_id: int, pad_left: bool,
                     pad_to_multiple_of: int, packed: bool,
                     start_indices: Optional[Sequence[Optional[int]]] = None) -> RoleSpanTuple:
    """Mask labels by role spans and pad (or pack) 1-D int32/int64 rows (tensors or buffers) in one native pass."""

def collate_rolespan_flat(input_ids: object, offsets: object, spec: RoleSpanSpecNative, pad_token_id: int,
                          pad_left: bool, pad_to_multiple_of: int, packed: bool,
                          start_indices: Optional[Sequence[Optional[int]]] = None) -> RoleSpanTuple:
    """The same from one flat 1-D id buffer and B + 1 int64 offsets."""

def collate_rolespan_chunks(chunks: Sequence[Tuple[object, object]], spec: RoleSpanSpecNative, pad_token_id: int,
                            pad_left: bool, pad_to_multiple_of: int, packed: bool,
                            start_indices: Optional[Sequence[Optional[int]]] = None) -> RoleSpanTuple:
    """The same from (flat ids, B + 1 offsets) pairs, one per chunk (an Arrow ChunkedArray), rows in order."""

# The token-tensor ops (csrc/python/register_ops.cpp): they write into outputs the Python layer allocated
# (fastcollate/ops/native.py); every tensor argument is a dense CPU tensor, checked again here.

def delay_apply(codes: torch.Tensor, bos_token_id: int, pad_token_id: int, delays: Sequence[int], btk: bool,
                extend: bool, delayed: torch.Tensor, generation_mask: torch.Tensor,
                per_element: bool = False) -> None:
    """Delay pattern into the given outputs (fastcollate.ops.apply_delay_pattern); per_element: the
    one-element kernel for every index (the CUDA form), for tests."""

def delay_apply_ragged(codes: torch.Tensor, offsets: torch.Tensor, bos_token_id: int, pad_token_id: int,
                       delays: Sequence[int], btk: bool, stream_bos_eos: bool, out: torch.Tensor,
                       new_offsets: torch.Tensor, labels: Optional[torch.Tensor], no_train: Optional[torch.Tensor],
                       per_element: bool = False) -> None:
    """Delay pattern of packed segments into the given outputs (fastcollate.ops.apply_delay_pattern_ragged)."""

def delay_apply_sizes(batch: int, codebooks: int, length: int, delays: Sequence[int], extend: bool) -> Tuple[int, int]:
    """(width, numel) of apply's outputs, overflow-checked: the size arithmetic without any allocation."""

def delay_revert(delayed: torch.Tensor, delays: Sequence[int], btk: bool, start_index: int, out: torch.Tensor,
                 per_element: bool = False) -> None:
    """Undo the delay pattern into `out` (fastcollate.ops.revert_delay_pattern)."""

def delay_revert_ragged(delayed: torch.Tensor, offsets: torch.Tensor, delays: Sequence[int], btk: bool,
                        stream_bos_eos: bool, out: torch.Tensor, new_offsets: torch.Tensor,
                        per_element: bool = False) -> None:
    """Undo the delay pattern of packed segments (fastcollate.ops.revert_delay_pattern_ragged)."""

def role_span_labels(input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor],
                     start_index: Optional[torch.Tensor], spec: RoleSpanSpecNative, out: torch.Tensor) -> None:
    """Role-span labels of a padded (B, T) batch into `out` (int64, rows of unit stride)."""

# HiggsAudioV2Collator (csrc/python/register_higgs_v2.cpp, csrc/higgs_v2/).

class HiggsV2Options:
    """Options of the compiled HiggsAudioV2Collator pass (built once per collator)."""

    def __init__(
        self,
        *,
        pad_token_id: int,
        audio_token_id: int,
        audio_bos_token_id: int,
        audio_delay_token_id: int,
        audio_stream_bos_id: int,
        audio_stream_eos_id: int,
        pad_left: bool,
        pad_to_multiple_of: int,
        num_codebooks: int,
        label_spec: Optional[RoleSpanSpecNative],
        allowed_keys: Sequence[str],
        unknown_key_problem: str,
        start_index_unread: str,
        no_train_unread: str,
        read_start_index: bool,
        read_no_train: bool,
        parse_no_train: object,
    ) -> None: ...

# (input_ids, attention_mask, audio_input_ids, audio_input_ids_mask, labels, audio_labels, num_learned,
#  features learning nothing): int64 (B, W) text tensors, (B, T, K) int64 audio ids and labels, (B, T) bool
# mask (the audio entries None when no feature has a clip), num_learned per feature (with counts=True; else
# None), and how many features learn nothing.
HiggsV2Tuple = Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor], torch.Tensor,
                     Optional[torch.Tensor], Optional[List[int]], int]

def collate_higgs_v2(features: Sequence[object], options: HiggsV2Options, counts: bool = False) -> HiggsV2Tuple:
    """Collate HiggsAudioV2Collator features (Mappings or objects) in one native pass."""

def simd() -> str:
    """"avx2" or "none": the SIMD path of HiggsAudioV2Collator's code transpose on this CPU."""
def set_simd(allowed: bool) -> bool:
    """Tests only: allow or forbid the SIMD path (process-wide); returns the previous setting."""

# CUDA (csrc/python/register_kernels.cpp, csrc/cuda/): the kernels' launches on a CUDA device and stream, or
# with device -1 the CPU grid runner that executes the same kernel bodies for every index (the CPU tests).
# `reverse` runs the grid runner's threads in descending order (a race between threads would show).
cuda_architectures: List[str]

def cuda_device_count() -> Tuple[int, str]:
    """(CUDA devices the runtime sees, "" or why none: the CUDA error); fastcollate.cuda.info() reads it."""

def kernel_delay_apply(codes: torch.Tensor, bos_token_id: int, pad_token_id: int, delays: Sequence[int], btk: bool,
                       extend: bool, delayed: torch.Tensor, generation_mask: torch.Tensor, device: int,
                       stream: int = 0, reverse: bool = False, index64: bool = False) -> None:
    """apply_delay_pattern's kernel: on CUDA device `device` and `stream`, or (device -1) the grid runner.
    index64 (tests): divide indices in 64 bits as for outputs of over 2^32 elements."""

def kernel_delay_revert(delayed: torch.Tensor, delays: Sequence[int], btk: bool, start_index: int,
                        out: torch.Tensor, device: int, stream: int = 0, reverse: bool = False,
                        index64: bool = False) -> None:
    """revert_delay_pattern's kernel (see kernel_delay_apply)."""

def kernel_delay_apply_ragged(codes: torch.Tensor, offsets: torch.Tensor, bos_token_id: int, pad_token_id: int,
                              delays: Sequence[int], btk: bool, stream_bos_eos: bool, out: torch.Tensor,
                              new_offsets: torch.Tensor, labels: Optional[torch.Tensor],
                              no_train: Optional[torch.Tensor], status: torch.Tensor, device: int, stream: int = 0,
                              reverse: bool = False, index64: bool = False) -> None:
    """apply_delay_pattern_ragged's kernels; status (int32, 1) is set to 1 when the offsets are invalid."""

def kernel_delay_revert_ragged(delayed: torch.Tensor, offsets: torch.Tensor, delays: Sequence[int], btk: bool,
                               stream_bos_eos: bool, out: torch.Tensor, new_offsets: torch.Tensor,
                               status: torch.Tensor, device: int, stream: int = 0, reverse: bool = False,
                               index64: bool = False) -> None:
    """revert_delay_pattern_ragged's kernels (see kernel_delay_apply_ragged)."""

def kernel_role_span_labels(input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor],
                            start_index: Optional[torch.Tensor], spec: RoleSpanSpecNative, out: torch.Tensor,
                            status: Optional[torch.Tensor], device: int, stream: int = 0, reverse: bool = False,
                            stage_limit: int = -1) -> None:
    """role_span_labels' kernel (the parallel scan form); status set to 1 on an invalid mask row (None without
    attention_mask); stage_limit >= 0: rows of more tokens are not staged in shared memory (tests)."""

def kernel_collate_rolespan(rows: Sequence[object], spec: RoleSpanSpecNative, pad_token_id: int, pad_left: bool,
                            pad_to_multiple_of: int, packed: bool, start_indices: Optional[Sequence[Optional[int]]],
                            device: int, stream: int = 0, reverse: bool = False,
                            stage_limit: int = -1) -> RoleSpanTuple:
    """collate_rolespan through one staging buffer and the row kernel; the outputs on the target; stage_limit:
    see kernel_role_span_labels."""

def kernel_collate_higgs(batch: Sequence[object], options: HiggsOptions, chunk_counts: Optional[Sequence[int]],
                         device: int, stream: int = 0, reverse: bool = False) -> HiggsTuple:
    """collate_higgs through one staging buffer and the kernels, on the target."""
