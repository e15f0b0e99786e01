"""The pure-Python HiggsAudioV2Collator: the specification the compiled path is tested against bit for bit.

Sample by sample, in plain torch, for clarity. What one feature becomes (K codebooks, clip j of L_j codes):

* text: each audio placeholder becomes L_j + 2 audio tokens then K - 1 delay tokens, one position per audio
  frame (the model reads both as placeholders, in order); the other tokens stay as they are;
* audio: each clip wrapped in the stream BOS and EOS and delayed (codebook k shifted right by k frames), as
  fastcollate.ops.apply_delay_pattern_ragged(..., layout="BTK", stream_bos_eos=True) lays it out: L_j + K + 1
  frames of K codes; a feature's clips follow each other;
* padding: text to the longest row (rounded up to pad_to_multiple_of) with pad_token_id, on the left by default
  (the processor's side); audio on the right to the longest row, with the stream EOS and a False mask;
* labels, label_mode "processor" (transformers' HiggsAudioV2Processor, bit for bit): `labels` are input_ids
  with -100 wherever the id is the audio token, pad_token_id or <|audio_out_bos|>; `audio_labels` are the audio
  ids with -100 wherever the id is the stream BOS or EOS;
* labels, label_mode "correct": `labels` are the label_spec's labels of the feature's input_ids (its
  start_index honoured), with -100 at every placeholder and delay token; `audio_labels` hold each clip's codes
  and its stream EOS in every codebook (the model must learn to stop), -100 at the stream BOS, the delay fills
  and the padding; a clip is no-train (all -100) when the spec does not learn its placeholder (a turn that is
  not learned, or before start_index) or when the feature's audio_no_train flags it;
* packed (cfg.packed): every feature in ONE row, in order, with nothing padded. `input_ids` and `labels` are
  the features' rows above (each without its padding) back to back, (1, T); `position_ids` (int64, (1, T))
  restart at 0 per feature; `cu_seq_lens_q` = `cu_seq_lens_k` (int32, B + 1 cumulative lengths) and
  `max_length_q` = `max_length_k` (int, the longest feature); no `attention_mask` (a 2-D mask on a packed row
  makes transformers treat it as one sequence). The audio keys are the features' audio frames back to back,
  (1, T_audio, K), each clip exactly as in the padded batch (its own stream BOS/EOS and delay pattern), the mask
  all True. The FIRST text label of every feature is -100 in both label modes: the shifted loss would
  otherwise train the previous feature's last token to predict it (the processor's labels keep
  <|begin_of_text|>). The audio labels need no such mask: a clip's first frame is its stream BOS, -100 in both
  modes. The labels are otherwise the padded batch's, rule for rule; num_learned counts the packed labels.
"""

from __future__ import annotations

from typing import List, Optional

import torch

from ..common.checks import check_batch
from ..common.labels import IGNORE
from ..common.sizes import check_fits_memory, check_padded_memory, padded_width
from ..delay.delay_pattern_reference import apply_delay_pattern_ragged
from ..rolespan.packed import varlen_fields
from ..rolespan.reference import mask_labels_with_turns
from .config import HiggsHfConfig
from .features import Feature, check_feature, read_feature

INT32_MAX = 2**31 - 1
OUTPUT_KEYS = ("input_ids", "attention_mask", "audio_input_ids", "audio_input_ids_mask", "labels", "audio_labels")


def read_batch(features, cfg: HiggsHfConfig) -> List[Feature]:
    check_batch(features)
    raw = [read_feature(i, f, cfg.ignore_keys) for i, f in enumerate(features)]  # every key first
    checked, codebooks = [], None
    for i, r in enumerate(raw):
        f = check_feature(i, r, cfg, codebooks)
        codebooks = f.clips[0].shape[0] if f.clips else codebooks
        checked.append(f)
    return checked


def collate_reference(features, cfg: HiggsHfConfig):
    """(the batch dict, num_learned: text + audio labels learned per feature, int64 (B,))."""
    samples = read_batch(features, cfg)
    codebooks = next((s.clips[0].shape[0] for s in samples if s.clips), None)
    if codebooks is not None:
        _check_audio_memory(samples, cfg, codebooks)
    rows = [_one_feature(s, cfg, codebooks) for s in samples]
    if cfg.packed:
        return _packed(rows, cfg, codebooks)

    longest = max(len(ids) for ids, _, _, _ in rows)
    width = padded_width(len(rows), longest, cfg.pad_to_multiple_of, "pad_to_multiple_of")
    check_padded_memory(len(rows), longest, cfg.pad_to_multiple_of, "pad_to_multiple_of")
    input_ids = torch.full((len(rows), width), cfg.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.int64)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.int64)
    for r, (ids, text_labels, _, _) in enumerate(rows):
        cols = slice(width - len(ids), width) if cfg.pad_left else slice(0, len(ids))
        input_ids[r, cols] = torch.tensor(ids, dtype=torch.int64)
        attention_mask[r, cols] = 1
        labels[r, cols] = torch.tensor(text_labels, dtype=torch.int64)
    if cfg.correct:
        learned = (labels != IGNORE).sum(1)
    else:  # the processor's rule, on the padded batch as it applies it
        labels = _processor_text_labels(input_ids, cfg)
        learned = (labels != IGNORE).sum(1)

    batch = {"input_ids": input_ids, "attention_mask": attention_mask}
    if codebooks is not None:  # the processor returns no audio keys for a batch without clips
        frames = max(a.shape[0] for _, _, a, _ in rows)
        audio = torch.full((len(rows), frames, codebooks), cfg.audio_stream_eos_id, dtype=torch.int64)
        audio_mask = torch.zeros((len(rows), frames), dtype=torch.bool)
        audio_labels = torch.full((len(rows), frames, codebooks), IGNORE, dtype=torch.int64)
        for r, (_, _, ids, audio_label_rows) in enumerate(rows):
            audio[r, : ids.shape[0]] = ids
            audio_mask[r, : ids.shape[0]] = True
            audio_labels[r, : ids.shape[0]] = audio_label_rows
        if not cfg.correct:
            audio_labels = _processor_audio_labels(audio, cfg)
        learned = learned + (audio_labels != IGNORE).flatten(1).sum(1)
        batch.update(audio_input_ids=audio, audio_input_ids_mask=audio_mask)
    batch["labels"] = labels
    if codebooks is not None:
        batch["audio_labels"] = audio_labels
    return batch, learned


def _check_audio_memory(samples: List[Feature], cfg: HiggsHfConfig, codebooks: int) -> None:
    """Before any clip is delayed: the batch's audio_input_ids (padded, or every frame in one packed row),
    int64 (rows, frames, K), must fit the machine's memory, or a RuntimeError names audio_codes."""
    frames = [sum(c.shape[1] + codebooks + 1 for c in s.clips) for s in samples]
    rows, width = (1, sum(frames)) if cfg.packed else (len(samples), max(frames))
    check_fits_memory(rows * width * codebooks * 8, "audio_codes: the batch's audio_input_ids")


def _packed(rows, cfg: HiggsHfConfig, codebooks: Optional[int]):
    """The packed batch (see the module docstring) and num_learned, from the features' unpadded rows."""
    lengths = [len(ids) for ids, _, _, _ in rows]
    if sum(lengths) > INT32_MAX:
        raise ValueError(f"packed: {sum(lengths)} tokens do not fit the int32 cu_seq_lens")
    input_ids = torch.tensor([t for ids, _, _, _ in rows for t in ids], dtype=torch.int64).view(1, -1)
    if cfg.correct:
        labels = torch.tensor([t for _, lab, _, _ in rows for t in lab], dtype=torch.int64).view(1, -1)
    else:  # the processor's rule, token by token (there is no padding to mask)
        labels = _processor_text_labels(input_ids, cfg)
    cu = torch.tensor([0] + lengths, dtype=torch.int64).cumsum(0)
    for begin, n in zip(cu.tolist(), lengths):
        if n:
            labels[0, begin] = IGNORE  # the first label of every feature: see the module docstring
    position_ids = torch.cat([torch.arange(n, dtype=torch.int64) for n in lengths]).view(1, -1)
    bounds = cu.tolist()
    learned = torch.tensor(
        [int((labels[0, a:b] != IGNORE).sum()) for a, b in zip(bounds, bounds[1:])], dtype=torch.int64
    )

    batch = {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}
    batch.update(varlen_fields(cu.to(torch.int32), max(lengths)))
    if codebooks is not None:
        audio = torch.cat([a for _, _, a, _ in rows]).view(1, -1, codebooks)
        if cfg.correct:
            audio_labels = torch.cat([lab for _, _, _, lab in rows]).view(1, -1, codebooks)
        else:
            audio_labels = _processor_audio_labels(audio, cfg)
        frames = torch.tensor([0] + [a.shape[0] for _, _, a, _ in rows]).cumsum(0).tolist()
        learned += torch.tensor(
            [int((audio_labels[0, a:b] != IGNORE).sum()) for a, b in zip(frames, frames[1:])], dtype=torch.int64
        )
        batch.update(
            audio_input_ids=audio,
            audio_input_ids_mask=torch.ones(audio.shape[:2], dtype=torch.bool),
            audio_labels=audio_labels,
        )
    return batch, learned


def _one_feature(s: Feature, cfg: HiggsHfConfig, codebooks: Optional[int]):
    """(expanded ids, their text labels, audio ids (T, K), audio labels (T, K)) of one feature; the labels are
    the correct mode's (the processor's are computed on the padded batch)."""
    ids = s.input_ids.tolist()
    spec_labels = mask_labels_with_turns(ids, cfg.label_spec, s.start_index)[0] if cfg.correct else [IGNORE] * len(ids)
    # A clip is learned where the spec learns its placeholder, unless the feature flags it no-train.
    no_train = [spec_labels[p] == IGNORE or flag for p, flag in zip(s.placeholders, s.no_train)]

    out_ids, out_labels, clip = [], [], 0
    for t, token in enumerate(ids):
        if token != cfg.audio_token_id:
            out_ids.append(token)
            out_labels.append(spec_labels[t])
            continue
        frames = s.clips[clip].shape[1] + 2
        out_ids += [cfg.audio_token_id] * frames + [cfg.audio_delay_token_id] * (codebooks - 1)
        out_labels += [IGNORE] * (frames + codebooks - 1)
        clip += 1

    if not s.clips:
        empty = torch.zeros((0, codebooks or 0), dtype=torch.int64)
        return out_ids, out_labels, empty, empty.clone()
    codes = torch.cat([c.T.long() for c in s.clips])  # (sum L, K): the "BTK" layout of the output
    offsets = torch.tensor([0] + [c.shape[1] for c in s.clips]).cumsum(0)
    delayed = apply_delay_pattern_ragged(
        codes,
        offsets,
        cfg.audio_stream_bos_id,
        cfg.audio_stream_eos_id,
        layout="BTK",
        stream_bos_eos=True,
        return_labels=True,
        no_train=torch.tensor(no_train, dtype=torch.bool),
    )
    return out_ids, out_labels, delayed.codes, delayed.labels


def _processor_text_labels(input_ids: torch.Tensor, cfg: HiggsHfConfig) -> torch.Tensor:
    labels = input_ids.clone()
    for masked in (cfg.audio_token_id, cfg.pad_token_id, cfg.audio_bos_token_id):
        labels[input_ids == masked] = IGNORE
    return labels


def _processor_audio_labels(audio: torch.Tensor, cfg: HiggsHfConfig) -> torch.Tensor:
    labels = audio.clone()
    for masked in (cfg.audio_stream_bos_id, cfg.audio_stream_eos_id):
        labels[audio == masked] = IGNORE
    return labels
