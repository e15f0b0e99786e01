"""The compiled Higgs Audio collation: one native call per batch, outputs wrapped as torch tensors."""

from __future__ import annotations

from typing import Optional

import torch

from ..rolespan.native import native_spec
from ..runtime.backend import core, kernel_target
from .config import HiggsCollateConfig
from .sample_fields import SAMPLE_FIELDS, UNKNOWN_KEY_PROBLEM
from .samples import HiggsAudioBatchInput
from .whisper_audio import WhisperAudio


def native_options(cfg: HiggsCollateConfig):
    return core().higgs_boson.Options(
        audio_in_token_id=cfg.audio_in_token_id,
        audio_out_token_id=cfg.audio_out_token_id,
        pad_token_id=cfg.pad_token_id,
        audio_stream_bos_id=cfg.audio_stream_bos_id,
        audio_stream_eos_id=cfg.audio_stream_eos_id,
        round_to=cfg.round_to,
        pad_left=cfg.pad_left,
        return_audio_in_tokens=cfg.return_audio_in_tokens,
        audio_num_codebooks=-1 if cfg.audio_num_codebooks is None else cfg.audio_num_codebooks,
        codebook_size=cfg.codebook_size,
        use_delay_pattern=cfg.use_delay_pattern,
        disable_audio_codes_transform=cfg.disable_audio_codes_transform,
        mask_audio_out_token_label=cfg.mask_audio_out_token_label,
        # Upstream's whisper path rebuilds samples without their reward; kept for bit-equality.
        drop_rewards=cfg.encode_whisper_embed,
        label_spec=None if cfg.label_spec is None else native_spec(cfg.label_spec),
        start_index_unread=cfg.unread_start_index_reason() or "",
        allowed_keys=sorted(set(SAMPLE_FIELDS) | cfg.ignore_keys),
        unknown_key_problem=UNKNOWN_KEY_PROBLEM,
    )


def collate_native(batch, options, whisper: Optional[WhisperAudio] = None, device: Optional[torch.device] = None):
    """(the batch, how many rows have no learned text label). With a CUDA `device` (backend="cuda") the samples
    are read and checked on the host as on the CPU, packed into one pinned staging buffer, copied to the device
    in one transfer and assembled there by the kernels of csrc/higgs_boson/; every tensor of the batch
    is then on `device` (whisper features copied there)."""
    chunk_counts = [n for counts in whisper.chunk_counts for n in counts] if whisper else None
    features = whisper.features if whisper else None
    feature_mask = whisper.feature_attention_mask if whisper else None
    if device is None:
        out = core().higgs_boson.collate(batch, options, chunk_counts)
    else:
        with torch.cuda.device(device):
            out = core().higgs_boson.kernel_collate(batch, options, chunk_counts, **kernel_target(device))
        if whisper:
            features, feature_mask = features.to(device), feature_mask.to(device)
    (
        input_ids,
        attention_mask,
        label_ids,
        audio_in_ids,
        audio_in_start,
        audio_out_ids,
        audio_out_start,
        label_audio_ids,
        group_loc,
        rewards,
        rows_without_learned_text,
    ) = out
    return HiggsAudioBatchInput(
        input_ids=input_ids,
        attention_mask=attention_mask,
        audio_features=features,
        audio_feature_attention_mask=feature_mask,
        audio_out_ids=audio_out_ids,
        audio_out_ids_start=audio_out_start,
        audio_out_ids_start_group_loc=group_loc,
        audio_in_ids=audio_in_ids,
        audio_in_ids_start=audio_in_start,
        label_ids=label_ids,
        label_audio_ids=label_audio_ids,
        reward=rewards,
    ), rows_without_learned_text
