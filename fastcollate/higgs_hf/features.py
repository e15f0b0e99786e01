"""Reading and checking one feature (a Mapping or an object), in the order the compiled path checks it.

This is the specification of HiggsAudioV2Collator's input rules and messages; csrc/python/bind_higgs_hf.cpp
and csrc/higgs_hf/ raise the same ValueErrors in the same order (the tests match both):

1. every Mapping feature's keys, for the whole batch, before any value: a key the collator does not read is
   an error unless named in `ignore_keys`;
2. then feature by feature: input_ids; start_index; a delay token in input_ids (the collator writes those);
   audio_codes (a list or tuple, absent or None meaning no clip); one clip per placeholder; each clip a
   (K, L) integer array whose K agrees with `num_codebooks` (or, num_codebooks=None, with the batch's first
   clip), the transpose suggested where the clip is (L, K), and whose codes lie in [0, codebook_size), the
   first one outside named by frame and codebook; audio_no_train.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch

from ..common.checks import Missing, check_start_index, sample_error, stored_items
from ..common.code_range import code_range_problem, wrong_codebooks
from ..common.int_input import int_tensor

FEATURE_KEYS = ("input_ids", "audio_codes", "start_index", "audio_no_train")
UNKNOWN_KEY_PROBLEM = (
    f"is not a feature HiggsAudioV2Collator reads ({', '.join(FEATURE_KEYS)}); drop it from the "
    "features (e.g. dataset.remove_columns) or list it in ignore_keys to skip it"
)
CODES_KIND = "a list of (K, L) code arrays, one per audio placeholder"
NO_TRAIN_KIND = "a list of bools, one per clip"


@dataclass
class RawFeature:
    """The values a feature carries, as given (absent optional ones are None)."""

    input_ids: object
    audio_codes: object
    start_index: object
    audio_no_train: object


@dataclass
class Feature:
    """One checked feature."""

    input_ids: torch.Tensor  # (n,) int32/int64, one placeholder per clip
    clips: List[torch.Tensor]  # (K, L) int32/int64 each, in placeholder order
    placeholders: List[int]  # positions of the placeholders in input_ids
    start_index: Optional[int]
    no_train: List[bool]  # one per clip (all False when not given)


def read_feature(i: int, feature, ignore_keys: frozenset) -> RawFeature:
    if isinstance(feature, Mapping):
        for key in feature:
            if key not in FEATURE_KEYS and key not in ignore_keys:
                raise sample_error(i, str(key), UNKNOWN_KEY_PROBLEM)
        get = lambda k: None if k in ignore_keys else feature.get(k)  # noqa: E731
        ids = (
            feature["input_ids"]
            if "input_ids" in feature
            else Missing("missing: the feature (a Mapping) has no such key")
        )
    else:
        get = lambda k: None if k in ignore_keys else getattr(feature, k, None)  # noqa: E731
        ids = getattr(
            feature, "input_ids", Missing(f"missing: the feature (a {type(feature).__name__}) has no such attribute")
        )
    return RawFeature(ids, get("audio_codes"), get("start_index"), get("audio_no_train"))


def check_feature(i: int, raw: RawFeature, cfg, batch_codebooks: Optional[int]) -> Feature:
    """The feature checked; `batch_codebooks` is K of the batch's first clip so far (None: no clip yet)."""
    ids = int_tensor(i, "input_ids", raw.input_ids, 1)
    start_index = check_start_index(i, raw.start_index, cfg.unread_start_index_reason())
    values = ids.tolist()
    if cfg.audio_delay_token_id in values:
        p = values.index(cfg.audio_delay_token_id)
        raise sample_error(
            i,
            "input_ids",
            f"holds the audio delay token {cfg.audio_delay_token_id} at position {p}; "
            f"give one audio token ({cfg.audio_token_id}) per clip: the collator "
            "writes each clip's placeholders and delay tokens itself",
        )
    placeholders = [p for p, v in enumerate(values) if v == cfg.audio_token_id]

    codes = raw.audio_codes
    if codes is None:
        codes = []
    if not isinstance(codes, (list, tuple)):
        raise sample_error(i, "audio_codes", f"expected {CODES_KIND}, got {type(codes).__name__}")
    codes = stored_items(codes)  # a clip's __index__ may change the list of clips while it is read
    if len(codes) != len(placeholders):
        raise sample_error(
            i,
            "audio_codes",
            f"{len(codes)} clip(s) for {len(placeholders)} audio placeholder(s) ({cfg.audio_token_id}) in input_ids",
        )
    clips = []
    for j, clip in enumerate(codes):
        field = f"audio_codes[{j}]"
        clip = int_tensor(i, field, clip, 2)
        k = clip.shape[0]
        if k == 0:
            raise sample_error(i, field, f"has 0 codebooks (shape {tuple(clip.shape)}); expected (K, L) with K >= 1")
        if cfg.num_codebooks is not None and k != cfg.num_codebooks:
            want = cfg.num_codebooks
            problem = wrong_codebooks(clip.shape, want, f"expected num_codebooks={want}", option="num_codebooks")
            raise sample_error(i, field, problem)
        if batch_codebooks is not None and k != batch_codebooks:
            want = batch_codebooks
            raise sample_error(
                i, field, wrong_codebooks(clip.shape, want, f"but earlier clips in the batch have {want}")
            )
        bad = code_range_problem(clip, cfg.codebook_size, cfg.audio_stream_bos_id, cfg.audio_stream_eos_id)
        if bad is not None:
            raise sample_error(i, field, bad)
        batch_codebooks = k
        clips.append(clip)
    return Feature(ids, clips, placeholders, start_index, _no_train(i, raw.audio_no_train, len(clips), cfg))


def _no_train(i: int, value, n_clips: int, cfg) -> List[bool]:
    if value is None:
        return [False] * n_clips
    reason = cfg.unread_no_train_reason()
    if reason is not None:
        raise sample_error(i, "audio_no_train", f"is given, but {reason}")
    flags, problem = parse_no_train(value)
    if problem is not None:
        raise sample_error(i, "audio_no_train", problem)
    if len(flags) != n_clips:
        raise sample_error(i, "audio_no_train", f"{len(flags)} flag(s) for {n_clips} clip(s)")
    return flags


def parse_no_train(value) -> Tuple[Optional[List[bool]], Optional[str]]:
    """(the flags, None) or (None, the problem). A list or tuple of bools, or a 1-D bool array or tensor: what
    numpy reads as a 1-D bool array. The compiled path calls this very function for the (rare) features that
    carry audio_no_train, so both give the same flags and messages."""
    if isinstance(value, (list, tuple)) and len(value) == 0:
        return [], None  # numpy would read [] as float64
    try:
        flags = np.asarray(value)
    except Exception:  # noqa: BLE001 (anything numpy cannot take: the message says what was given)
        flags = None
    if flags is None or flags.dtype != np.bool_ or flags.ndim != 1:
        return None, f"expected {NO_TRAIN_KIND}, got {_describe(value)}"
    return [bool(v) for v in flags], None


def _describe(value) -> str:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return f"{type(value).__name__} of dtype {value.dtype} and shape {tuple(value.shape)}"
    return type(value).__name__
