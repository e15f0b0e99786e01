"""The pure-Python Higgs Audio collation: the specification every compiled path is tested against.

Written for clarity, sample by sample, in plain torch. It reproduces upstream's output bit-for-bit on fresh
samples (quirks included, see the README, "Differences from upstream"), never mutates its inputs, and raises
ValueError naming sample and field where upstream crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import torch

from ..common.checks import batch_has_labels, check_batch, check_reward, check_start_index, sample_error
from ..common.code_range import code_range_problem, wrong_codebooks
from ..common.int_input import int_tensor
from ..common.labels import IGNORE
from ..common.sizes import check_fits_memory, check_padded_memory, fits, padded_width, stream_too_big
from ..delay.delay_pattern_reference import apply_delay_pattern
from ..rolespan.reference import mask_labels_reference
from .config import HiggsCollateConfig
from .sample_fields import read_sample
from .samples import HiggsAudioBatchInput
from .whisper_audio import WhisperAudio


@dataclass
class _Segment:
    codes: torch.Tensor  # (K, L) int64, already cut to audio_num_codebooks
    labels: Optional[torch.Tensor] = None  # (K, L), from audio_label_ids_concat (disable_audio_codes_transform)
    no_train: bool = False  # its <|AUDIO_OUT|> label was < 0: every audio label of it becomes -100


@dataclass
class _Sample:
    input_ids: torch.Tensor  # (n,) int64, long-audio triples repeated
    label_ids: Optional[torch.Tensor]  # (n,) int64, <|AUDIO_OUT|> masked if asked
    audio_in: List[_Segment] = field(default_factory=list)
    audio_out: List[_Segment] = field(default_factory=list)
    reward: Optional[float] = None


def collate_reference(batch, cfg: HiggsCollateConfig, whisper: Optional[WhisperAudio] = None) -> HiggsAudioBatchInput:
    check_batch(batch)
    batch = [read_sample(i, s, cfg.ignore_keys) for i, s in enumerate(batch)]  # objects or Mappings
    # With a label_spec every sample's labels are derived from its input_ids; label_ids are not read.
    with_labels = cfg.label_spec is not None or batch_has_labels(batch)
    samples = [
        _prepare_sample(i, s, cfg, with_labels, whisper.chunk_counts[i] if whisper else None)
        for i, s in enumerate(batch)
    ]
    longest = max(len(s.input_ids) for s in samples)
    width = padded_width(len(samples), longest, cfg.round_to, "round_to")
    _check_streams(samples, cfg)
    check_padded_memory(len(samples), longest, cfg.round_to, "round_to")

    input_ids, attention_mask, label_ids = _pad_text(samples, cfg, with_labels, width)

    audio_in_ids = audio_in_ids_start = None
    if cfg.return_audio_in_tokens:
        in_segments = [seg for s in samples for seg in s.audio_in]
        audio_in_ids, audio_in_ids_start = _concat_streams([_stream_codes(seg, cfg) for seg in in_segments])

    out_segments = [seg for s in samples for seg in s.audio_out]
    audio_out_ids, audio_out_ids_start = _concat_streams([_stream_codes(seg, cfg) for seg in out_segments])
    label_audio_ids = None
    if with_labels:
        label_audio_ids, _ = _concat_streams([_stream_labels(seg, cfg) for seg in out_segments])
    # Upstream quirk kept: one group location per sample, not per audio-out segment.
    group_loc = torch.arange(len(samples), dtype=torch.long) if out_segments else None

    rewards = [s.reward for s in samples if s.reward is not None]
    return HiggsAudioBatchInput(
        input_ids=input_ids,
        attention_mask=attention_mask,
        audio_features=whisper.features if whisper else None,
        audio_feature_attention_mask=whisper.feature_attention_mask if whisper else None,
        audio_out_ids=audio_out_ids,
        audio_out_ids_start=audio_out_ids_start,
        audio_out_ids_start_group_loc=group_loc,
        audio_in_ids=audio_in_ids,
        audio_in_ids_start=audio_in_ids_start,
        label_ids=label_ids,
        label_audio_ids=label_audio_ids,
        reward=torch.tensor(rewards, dtype=torch.float32),
    )


def _prepare_sample(i, sample, cfg, with_labels, chunk_counts) -> _Sample:
    ids = int_tensor(i, "input_ids", sample.input_ids, 1).long()
    # A start_index is read by a label_spec that counts turns; given anywhere else it is an error.
    start_index = check_start_index(i, sample.start_index, cfg.unread_start_index_reason())
    labels = None
    if cfg.label_spec is not None:
        labels = mask_labels_reference(ids, cfg.label_spec, start_index)
    elif with_labels:
        labels = int_tensor(i, "label_ids", sample.label_ids, 1).long()
        if len(labels) != len(ids):
            raise sample_error(i, "label_ids", f"length {len(labels)} does not match input_ids length {len(ids)}")

    is_in = ids == cfg.audio_in_token_id
    is_out = ids == cfg.audio_out_token_id
    # Each placeholder token, in order, owns the audio segment of the same index.
    kinds = ["out" if is_out[p] else "in" for p in torch.nonzero(is_in | is_out).flatten().tolist()]
    prepared = _Sample(input_ids=ids, label_ids=labels)
    if chunk_counts is None:  # upstream quirk kept: its whisper path rebuilds each sample without the reward
        prepared.reward = check_reward(i, sample.reward)

    reads_codes = "out" in kinds or (cfg.return_audio_in_tokens and "in" in kinds)
    if reads_codes:
        segments = _read_segments(i, sample, cfg, kinds, with_labels)
        no_train = (labels[is_out] < 0).tolist() if with_labels else [False] * kinds.count("out")
        out_segments = [seg for seg, kind in zip(segments, kinds) if kind == "out"]
        for seg, flag in zip(out_segments, no_train):
            seg.no_train = flag
        prepared.audio_out = out_segments
        if cfg.return_audio_in_tokens:
            prepared.audio_in = [seg for seg, kind in zip(segments, kinds) if kind == "in"]

    if with_labels and cfg.mask_audio_out_token_label:
        labels = labels.clone()  # never write into the caller's tensor
        labels[is_out] = IGNORE
        prepared.label_ids = labels

    if chunk_counts and max(chunk_counts) > 1:
        prepared.input_ids, prepared.label_ids = _repeat_long_audio_triples(
            ids, prepared.label_ids, is_in, chunk_counts
        )
    return prepared


def _read_segments(i, sample, cfg, kinds, with_labels) -> List[_Segment]:
    codes = int_tensor(i, "audio_ids_concat", sample.audio_ids_concat, 2)
    starts = int_tensor(i, "audio_ids_start", sample.audio_ids_start, 1).tolist()
    if len(starts) != len(kinds):
        raise sample_error(
            i,
            "audio_ids_start",
            f"{len(starts)} audio segments for {len(kinds)} audio placeholder "
            f"tokens ({kinds.count('in')} audio-in, {kinds.count('out')} audio-out)",
        )
    total = codes.shape[1]
    for j, start in enumerate(starts):
        if not 0 <= start <= total:
            raise sample_error(i, "audio_ids_start", f"entry {j} = {start} is outside [0, {total}]")
        if j and start < starts[j - 1]:
            raise sample_error(i, "audio_ids_start", f"decreases at entry {j} ({starts[j - 1]} > {start})")

    label_codes = None
    if cfg.disable_audio_codes_transform and with_labels and "out" in kinds:
        label_codes = sample.audio_label_ids_concat
        if label_codes is None:
            raise sample_error(
                i, "audio_label_ids_concat", "is None, but disable_audio_codes_transform=True with labels needs it"
            )
        label_codes = int_tensor(i, "audio_label_ids_concat", label_codes, 2)
        if label_codes.shape != codes.shape:
            raise sample_error(
                i,
                "audio_label_ids_concat",
                f"shape {tuple(label_codes.shape)} does not match audio_ids_concat shape {tuple(codes.shape)}",
            )

    keep = cfg.kept_codebooks(codes.shape[0])
    ends = starts[1:] + [total]
    _check_codes(i, codes, starts, ends, kinds, keep, cfg)
    segments = []
    for start, end, kind in zip(starts, ends, kinds):
        seg = _Segment(codes=codes[:keep, start:end].long())
        if label_codes is not None and kind == "out":
            seg.labels = label_codes[:keep, start:end].long()
        segments.append(seg)
    return segments


def _check_codes(i, codes, starts, ends, kinds, keep, cfg):
    """Where upstream would build a wrong batch from the codes: fewer codebooks than audio_num_codebooks (it
    keeps them all), a code outside [0, codebook_size) in a segment the batch holds (upstream copies it, and
    the model reads a stream id as a BOS/EOS or indexes past its embedding)."""
    want = cfg.audio_num_codebooks
    if want is not None and codes.shape[0] < want:
        problem = wrong_codebooks(
            codes.shape,
            want,
            f"fewer than audio_num_codebooks={want}",
            subject="audio_ids_concat",
            option="audio_num_codebooks",
        )
        raise sample_error(i, "audio_ids_concat", problem)
    for j, (start, end, kind) in enumerate(zip(starts, ends, kinds)):
        if kind == "in" and not cfg.return_audio_in_tokens:
            continue  # not in the batch
        problem = code_range_problem(
            codes[:keep, start:end],
            cfg.codebook_size,
            cfg.audio_stream_bos_id,
            cfg.audio_stream_eos_id,
            stream_ids_allowed=cfg.disable_audio_codes_transform,
            first_frame=start,
            where=f" (audio segment {j})",
        )
        if problem is not None:
            raise sample_error(i, "audio_ids_concat", problem)


def _check_streams(samples, cfg):
    """Segments are concatenated along time, so each stream needs one codebook count for the whole batch, and
    its width (grown segment by segment, in batch order) must stay addressable."""
    for stream in ("audio_in", "audio_out"):
        first, width = None, 0
        for i, s in enumerate(samples):
            for seg in getattr(s, stream):
                k = seg.codes.shape[0]
                if first is None:
                    first = k
                elif k != first:
                    raise sample_error(
                        i,
                        "audio_ids_concat",
                        f"{k} codebooks in an {stream.replace('_', '-')} "
                        f"segment, but earlier ones in the batch have {first}",
                    )
                width += _segment_width(seg.codes.shape[1], k, cfg)
                if not fits(k, width):
                    raise stream_too_big(i, stream.replace("_", "-"), k)
        if first is not None:
            check_fits_memory(first * width * 8, f"audio_ids_concat: the batch's {stream.replace('_', '-')} stream")


def _segment_width(length: int, codebooks: int, cfg) -> int:
    """A segment's columns in its stream: L, or L + 2 with stream BOS/EOS, plus K - 1 with the delay pattern
    (upstream's formula, also for K = 0)."""
    if cfg.disable_audio_codes_transform:
        return length
    return length + 2 + (codebooks - 1 if cfg.use_delay_pattern else 0)


def _repeat_long_audio_triples(ids, labels, is_in, chunk_counts):
    """Whisper long audio: each chunk gets its own `<|audio_bos|><|AUDIO|><|audio_eos|>` triple."""
    pieces_ids, pieces_labels, prev = [], [], 0
    for pos, count in zip(torch.nonzero(is_in).flatten().tolist(), chunk_counts):
        if count == 1:
            continue
        pieces_ids += [ids[prev : pos - 1], ids[pos - 1 : pos + 2].repeat(count)]
        if labels is not None:
            pieces_labels += [labels[prev : pos - 1], labels[pos - 1 : pos + 2].repeat(count)]
        prev = pos + 2
    new_ids = torch.cat(pieces_ids + [ids[prev:]])
    new_labels = torch.cat(pieces_labels + [labels[prev:]]) if labels is not None else None
    return new_ids, new_labels


def _pad_text(samples, cfg, with_labels, width):
    batch = len(samples)
    input_ids = torch.full((batch, width), cfg.pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((batch, width), dtype=torch.long)
    label_ids = torch.full((batch, width), IGNORE, dtype=torch.long) if with_labels else None
    for row, s in enumerate(samples):
        n = len(s.input_ids)
        cols = slice(width - n, width) if cfg.pad_left else slice(0, n)
        input_ids[row, cols] = s.input_ids
        attention_mask[row, cols] = 1
        if with_labels:
            label_ids[row, cols] = s.label_ids
    return input_ids, attention_mask, label_ids


def _stream_codes(seg: _Segment, cfg) -> torch.Tensor:
    """Audio codes as the model reads them: wrapped in stream BOS/EOS, then delayed."""
    if cfg.disable_audio_codes_transform:
        return seg.codes
    k = seg.codes.shape[0]
    if k == 0 and cfg.use_delay_pattern:  # upstream's width L + 2 + K - 1, also for K = 0
        return torch.zeros((0, seg.codes.shape[1] + 1), dtype=torch.long)
    bos = torch.full((k, 1), cfg.audio_stream_bos_id, dtype=torch.long)
    eos = torch.full((k, 1), cfg.audio_stream_eos_id, dtype=torch.long)
    wrapped = torch.cat([bos, seg.codes, eos], dim=1)
    if cfg.use_delay_pattern:
        return apply_delay_pattern(wrapped, cfg.audio_stream_bos_id, cfg.audio_stream_eos_id)[0]
    return wrapped


def _stream_labels(seg: _Segment, cfg) -> torch.Tensor:
    """Audio labels: the stream BOS and every delay fill are -100, the stream EOS is learned."""
    if cfg.disable_audio_codes_transform:
        labels = seg.labels
    elif seg.codes.shape[0] == 0 and cfg.use_delay_pattern:  # as in _stream_codes
        labels = torch.zeros((0, seg.codes.shape[1] + 1), dtype=torch.long)
    else:
        k = seg.codes.shape[0]
        first = torch.full((k, 1), IGNORE, dtype=torch.long)
        eos = torch.full((k, 1), cfg.audio_stream_eos_id, dtype=torch.long)
        labels = torch.cat([first, seg.codes, eos], dim=1)
        if cfg.use_delay_pattern:
            labels = apply_delay_pattern(labels, IGNORE, IGNORE)[0]
    return torch.full_like(labels, IGNORE) if seg.no_train else labels


def _concat_streams(streams):
    if not streams:
        return torch.zeros((0, 0), dtype=torch.long), torch.zeros(0, dtype=torch.long)
    widths = torch.tensor([0] + [s.shape[1] for s in streams[:-1]], dtype=torch.long)
    return torch.cat(streams, dim=1), torch.cumsum(widths, dim=0)
