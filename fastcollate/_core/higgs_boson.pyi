# _core.higgs_boson (csrc/python/bind_higgs_boson.cpp, csrc/higgs_boson/): HiggsAudioSampleCollator.
from typing import Optional, Sequence, Tuple

import torch

from .rolespan import RoleSpanSpecNative

class Options:
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
        codebook_size: int,
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
# count of rows without a learned text label. fastcollate/higgs_boson/native.py wraps them as HiggsAudioBatchInput.
HiggsTuple = Tuple[
    torch.Tensor,
    torch.Tensor,
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    torch.Tensor,
    torch.Tensor,
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    torch.Tensor,
    int,
]

def collate(batch: Sequence[object], options: Options, chunk_counts: Optional[Sequence[int]] = None) -> HiggsTuple:
    """Collate ChatMLDatasetSample-like objects (or Mappings) in one native pass."""

def kernel_collate(
    batch: Sequence[object],
    options: Options,
    chunk_counts: Optional[Sequence[int]],
    device: int,
    stream: int = 0,
    reverse: bool = False,
) -> HiggsTuple:
    """collate through one staging buffer and the kernels: on CUDA device `device` and `stream`, or (device -1)
    the CPU grid runner."""
