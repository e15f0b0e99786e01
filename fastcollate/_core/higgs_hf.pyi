# _core.higgs_hf (csrc/python/bind_higgs_hf.cpp, csrc/higgs_hf/): HiggsAudioV2Collator (transformers' format).
from typing import List, Optional, Sequence, Tuple

import torch

from .rolespan import RoleSpanSpecNative

class Options:
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
        packed: bool,
        num_codebooks: int,
        codebook_size: int,
        label_spec: Optional[RoleSpanSpecNative],
        allowed_keys: Sequence[str],
        unknown_key_problem: str,
        start_index_unread: str,
        no_train_unread: str,
        read_start_index: bool,
        read_no_train: bool,
        parse_no_train: object,
    ) -> None: ...
    @property
    def packed(self) -> bool:
        """Whether collate() returns the packed layout (HiggsHfPackedTuple)."""

# (input_ids, attention_mask, audio_input_ids, audio_input_ids_mask, labels, audio_labels, num_learned,
#  features learning nothing): int64 (B, W) text tensors, (B, T, K) int64 audio ids and labels, (B, T) bool
# mask (the audio entries None when no feature has a clip), num_learned per feature (with counts=True; else
# None), and how many features learn nothing.
HiggsHfTuple = Tuple[
    torch.Tensor,
    torch.Tensor,
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    torch.Tensor,
    Optional[torch.Tensor],
    Optional[List[int]],
    int,
]

# options.packed: (input_ids, labels, position_ids, cu_seq_lens, max_length, audio_input_ids,
#  audio_input_ids_mask, audio_labels, num_learned, features learning nothing): every feature in one row,
# int64 (1, T) text tensors and position ids, int32 (B + 1,) cu_seq_lens, the longest feature's length,
# (1, T_audio, K) audio ids and labels and a (1, T_audio) all-True mask (None when no feature has a clip).
HiggsHfPackedTuple = Tuple[
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    int,
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    Optional[torch.Tensor],
    Optional[List[int]],
    int,
]

def collate(features: Sequence[object], options: Options, counts: bool = False) -> HiggsHfTuple | HiggsHfPackedTuple:
    """Collate HiggsAudioV2Collator features (Mappings or objects) in one native pass."""

def simd() -> str:
    """ "avx2" or "none": the SIMD path of HiggsAudioV2Collator's code transpose on this CPU."""

def set_simd(allowed: bool) -> bool:
    """Tests only: allow or forbid the SIMD path (process-wide); returns the previous setting."""
