"""The sample and batch types, field-for-field those of boson-multimodal.

`ChatMLDatasetSample` lets users without boson-multimodal build samples; the collators accept upstream's
class as well (they only read attributes). `HiggsAudioBatchInput` is what the Higgs Audio collator returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch


@dataclass
class ChatMLDatasetSample:
    """One Higgs Audio training sample, field for field boson-multimodal's (the collators also take upstream's
    class and Mappings with these keys). Ids are int32 or int64 CPU tensors: `input_ids` and `label_ids`
    (seq_len,), `audio_ids_concat` (num_codebooks, audio_seq_len), `audio_ids_start` (num_audios,);
    waveforms float (total_wv_length,). See each field's comment."""

    input_ids: torch.Tensor  # (seq_len,) text tokens, with <|AUDIO|> / <|AUDIO_OUT|> placeholders
    label_ids: Optional[torch.Tensor]  # (seq_len,) labels, -100 = not learned; None = no labels
    audio_ids_concat: torch.Tensor  # (num_codebooks, audio_seq_len) codes of every audio segment, concatenated
    audio_ids_start: torch.Tensor  # (num_audios,) start column of each segment in audio_ids_concat
    audio_waveforms_concat: torch.Tensor  # (total_wv_length,) waveforms of the audio-in segments
    audio_waveforms_start: torch.Tensor  # (num_audios,) start of each waveform
    audio_sample_rate: torch.Tensor  # (num_audios,) sampling rate of each waveform
    audio_speaker_indices: torch.Tensor  # (num_audios,) -1 = unknown speaker
    audio_label_ids_concat: Optional[torch.Tensor] = None  # like audio_ids_concat, labels of the codes
    reward: Optional[float] = None
    # fastcollate only: the first turn whose assistant tokens are learned (prepare_chatml_sample's start_index).
    start_index: Optional[int] = None

    def num_audios(self) -> int:
        return max(len(self.audio_waveforms_start), len(self.audio_ids_start))

    def _segment_bounds(self, idx: int) -> tuple[int, int]:
        start = int(self.audio_ids_start[idx])
        if idx < len(self.audio_ids_start) - 1:
            return start, int(self.audio_ids_start[idx + 1])
        return start, self.audio_ids_concat.shape[-1]

    def get_audio_codes(self, idx: int) -> torch.Tensor:
        start, end = self._segment_bounds(idx)
        return self.audio_ids_concat[:, start:end]

    def get_audio_codes_labels(self, idx: int) -> Optional[torch.Tensor]:
        if self.audio_label_ids_concat is None:
            return None
        start, end = self._segment_bounds(idx)
        return self.audio_label_ids_concat[:, start:end]

    def get_wv(self, idx: int):
        start = int(self.audio_waveforms_start[idx])
        if idx < len(self.audio_waveforms_start) - 1:
            end = int(self.audio_waveforms_start[idx + 1])
        else:
            end = self.audio_waveforms_concat.shape[-1]
        return self.audio_waveforms_concat[start:end], self.audio_sample_rate[idx]


@dataclass
class HiggsAudioBatchInput:
    """What HiggsAudioSampleCollator returns, field for field upstream's: int64 (bsz, seq_len) `input_ids`,
    `attention_mask` and `label_ids`; int64 (num_codebooks, total_frames) audio codes; float32 whisper features
    and `reward`; None where upstream gives None. See each field's comment for its shape."""

    input_ids: torch.Tensor  # (bsz, seq_len) int64
    attention_mask: torch.Tensor  # (bsz, seq_len), dtype of input_ids (int64), as upstream
    audio_features: Optional[torch.Tensor]  # (num_audio_in_chunks, feature_dim, max_mel_len) float32
    audio_feature_attention_mask: Optional[torch.Tensor]  # (num_audio_in_chunks, max_mel_len) int32
    audio_out_ids: Optional[torch.Tensor]  # (num_codebooks, audio_out_total_length)
    audio_out_ids_start: Optional[torch.Tensor]  # (num_audio_out,)
    # Upstream quirk kept: one entry per *sample* (0..bsz-1), not per audio-out segment; None without audio-out.
    audio_out_ids_start_group_loc: Optional[torch.Tensor]
    audio_in_ids: Optional[torch.Tensor]  # (num_codebooks, audio_in_total_length)
    audio_in_ids_start: Optional[torch.Tensor]  # (num_audio_in,)
    label_ids: Optional[torch.Tensor]  # (bsz, seq_len)
    label_audio_ids: Optional[torch.Tensor]  # (num_codebooks, audio_out_total_length)
    reward: Optional[torch.Tensor] = None  # (num_samples_with_reward,) float32
