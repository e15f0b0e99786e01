"""The whisper path (encode_whisper_embed=True): long-audio chunking and whisper features.

This stays in Python for every backend: features come from the caller's `whisper_processor`, called exactly
as upstream calls it, so they are bit-exact by construction. What the token kernels need from here is only
`chunk_counts`: how many copies of its `<|audio_bos|><|AUDIO|><|audio_eos|>` triple each audio-in token gets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List

import torch

from ..common.checks import require, sample_error
from ..common.int_input import int_tensor


@dataclass
class WhisperAudio:
    chunk_counts: List[List[int]]  # per sample, per audio-in token in order: number of chunks (>= 1)
    features: torch.Tensor  # (num_chunks_in_batch, feature_size, nb_max_frames) float32
    feature_attention_mask: torch.Tensor  # (num_chunks_in_batch, nb_max_frames) int32


def prepare_whisper_audio(batch, cfg, feature_extractor) -> WhisperAudio:
    target_sr = feature_extractor.sampling_rate
    chunk_counts, chunks = [], []
    for i, sample in enumerate(batch):
        ids = int_tensor(i, "input_ids", sample.input_ids, 1)
        in_pos = torch.nonzero(ids == cfg.audio_in_token_id).flatten().tolist()
        out_pos = torch.nonzero(ids == cfg.audio_out_token_id).flatten().tolist()
        counts = []
        for j, wave in enumerate(_audio_in_waveforms(i, sample, in_pos, out_pos)):
            rate = require(i, "audio_sample_rate", sample.audio_sample_rate)[j]
            wave = _resample_like_upstream(wave, rate, target_sr)
            n = max(1, math.ceil(len(wave) / cfg.chunk_size_samples))
            counts.append(n)
            chunks.extend(wave[c * cfg.chunk_size_samples : (c + 1) * cfg.chunk_size_samples] for c in range(n))
        _check_long_audio(i, ids, cfg, counts, in_pos, out_pos)
        chunk_counts.append(counts)

    if chunks:
        ret = feature_extractor(chunks, sampling_rate=target_sr, return_attention_mask=True, padding="max_length")
        features = torch.from_numpy(ret["input_features"])
        mask = torch.from_numpy(ret["attention_mask"])
    else:
        # Upstream's shapes for a batch with no audio-in on the whisper path.
        frames = feature_extractor.nb_max_frames
        features = torch.zeros((0, feature_extractor.feature_size, frames), dtype=torch.float32)
        mask = torch.zeros((0, frames), dtype=torch.int32)
    return WhisperAudio(chunk_counts, features, mask)


def _audio_in_waveforms(i, sample, in_pos, out_pos):
    """The waveform of each audio-in token, in order: upstream pairs them by position among audio-in tokens."""
    if not in_pos:
        return []
    if out_pos and out_pos[0] < in_pos[-1]:
        raise sample_error(
            i,
            "input_ids",
            f"audio-out token at position {out_pos[0]} precedes an audio-in token; "
            "the whisper path pairs waveforms by position and cannot collate this",
        )
    starts = require(i, "audio_waveforms_start", sample.audio_waveforms_start)
    if len(starts) < len(in_pos):
        raise sample_error(i, "audio_waveforms_start", f"{len(starts)} waveforms for {len(in_pos)} audio-in tokens")
    # Lists and arrays too (a datasets row): one float tensor, as a tensor sample would give.
    concat = torch.as_tensor(require(i, "audio_waveforms_concat", sample.audio_waveforms_concat))
    waves = []
    for j in range(len(in_pos)):
        begin = int(starts[j])
        end = int(starts[j + 1]) if j + 1 < len(starts) else concat.shape[-1]
        if not 0 <= begin < end <= concat.shape[-1]:
            raise sample_error(
                i,
                "audio_waveforms_concat",
                f"waveform {j} spans [{begin}, {end}) of {concat.shape[-1]} samples (empty or out of range)",
            )
        waves.append(concat[begin:end])
    return waves


def _resample_like_upstream(wave: torch.Tensor, sr, target_sr: int):
    # The same call as upstream (sr is the 0-d tensor it passes), so the resampled audio is bit-identical.
    if sr != target_sr:
        import librosa  # only needed when rates differ

        return librosa.resample(wave.cpu().numpy(), orig_sr=sr, target_sr=target_sr)
    return wave.cpu().numpy()


def _check_long_audio(i, ids, cfg, counts, in_pos, out_pos):
    """Long audio (more than one chunk) is only well defined where upstream's index shift does no harm."""
    for j, n in enumerate(counts):
        if n == 1:
            continue
        where = f"waveform {j} is longer than chunk_size_seconds ({n} chunks)"
        if cfg.return_audio_in_tokens:
            raise sample_error(
                i,
                "audio_waveforms_concat",
                f"{where}: return_audio_in_tokens=True cannot pair its repeated <|AUDIO|> tokens "
                "with audio codes; set return_audio_in_tokens=False or shorten the audio",
            )
        if out_pos:
            raise sample_error(
                i,
                "audio_waveforms_concat",
                f"{where} and an audio-out token follows it: its audio codes would be misindexed",
            )
        p = in_pos[j]
        audio = (cfg.audio_in_token_id, cfg.audio_out_token_id)
        if p == 0 or p == len(ids) - 1 or int(ids[p - 1]) in audio or int(ids[p + 1]) in audio:
            raise sample_error(
                i,
                "input_ids",
                f"audio-in token at position {p} needs a non-audio token on each "
                "side (<|audio_bos|>, <|audio_eos|>) to be repeated for long audio",
            )
