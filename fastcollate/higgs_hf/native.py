"""The compiled HiggsAudioV2Collator: one native call per batch (csrc/higgs_hf, csrc/python/bind_higgs_hf.cpp)."""

from __future__ import annotations

import torch

from ..rolespan.native import native_spec
from ..rolespan.packed import varlen_fields
from ..runtime.backend import core
from .config import HiggsHfConfig
from .features import FEATURE_KEYS, UNKNOWN_KEY_PROBLEM, parse_no_train
from .reference import OUTPUT_KEYS

PACKED_AUDIO_KEYS = ("audio_input_ids", "audio_input_ids_mask", "audio_labels")


def native_options(cfg: HiggsHfConfig):
    return core().higgs_hf.Options(
        pad_token_id=cfg.pad_token_id,
        audio_token_id=cfg.audio_token_id,
        audio_bos_token_id=-1 if cfg.audio_bos_token_id is None else cfg.audio_bos_token_id,
        audio_delay_token_id=cfg.audio_delay_token_id,
        audio_stream_bos_id=cfg.audio_stream_bos_id,
        audio_stream_eos_id=cfg.audio_stream_eos_id,
        pad_left=cfg.pad_left,
        pad_to_multiple_of=cfg.pad_to_multiple_of,
        packed=cfg.packed,
        num_codebooks=-1 if cfg.num_codebooks is None else cfg.num_codebooks,
        codebook_size=cfg.codebook_size,
        label_spec=native_spec(cfg.label_spec) if cfg.correct else None,
        allowed_keys=sorted(set(FEATURE_KEYS) | cfg.ignore_keys),
        unknown_key_problem=UNKNOWN_KEY_PROBLEM,
        start_index_unread=cfg.unread_start_index_reason() or "",
        no_train_unread=cfg.unread_no_train_reason() or "",
        read_start_index="start_index" not in cfg.ignore_keys,
        read_no_train="audio_no_train" not in cfg.ignore_keys,
        parse_no_train=parse_no_train,
    )


def _call(features, options, counts=False):
    if not isinstance(features, (list, tuple)):
        raise ValueError(f"batch: expected a list of samples, got {type(features).__name__}")
    if len(features) == 0:
        raise ValueError("batch: is empty, nothing to collate")
    return core().higgs_hf.collate(features, options, counts)


def collate_native(features, options):
    """(the batch dict, how many features learn nothing): the twin's collate_reference gives the per-feature
    counts instead; learned_counts() gives them here when that number is not 0."""
    *outputs, _, learning_nothing = _call(features, options)
    if options.packed:  # the twin's keys, in its order
        input_ids, labels, position_ids, cu_seq_lens, max_length, *audio = outputs
        batch = {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}
        batch.update(varlen_fields(cu_seq_lens, max_length))
        if audio[0] is not None:
            batch.update(zip(PACKED_AUDIO_KEYS, audio))
        return batch, learning_nothing
    return {k: v for k, v in zip(OUTPUT_KEYS, outputs) if v is not None}, learning_nothing


def learned_counts(features, options):
    """Learned labels (text + audio) per feature, int64 (B,)."""
    return torch.tensor(_call(features, options, counts=True)[-2], dtype=torch.int64)
