"""Realistic synthetic Higgs Audio samples (Llama-3 chat layout, audio codes at 25 frames/s).

Used by `python -m fastcollate demo`, the tests and the benchmarks; nothing is downloaded. Token ids are
those of the released model; text tokens are random ids below 128000 (no special token can appear by chance).
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from .common.labels import IGNORE
from .higgs_boson.samples import ChatMLDatasetSample

LLAMA3_IDS = SimpleNamespace(
    begin_of_text=128000,
    start_header=128006,
    end_header=128007,
    double_newline=271,
    eot=128009,
    eom=128008,
    system=9125,
    user=882,
    assistant=78191,
    audio_bos=128011,
    audio_eos=128012,
    audio_out_bos=128013,
    audio_in=128015,
    audio_out=128016,
    pad=128001,
    stream_bos=1024,
    stream_eos=1025,
)
FRAMES_PER_SECOND = 25
CODEBOOK_SIZE = 1024


class _Builder:
    """Appends tokens with their labels the way prepare_chatml_sample does."""

    def __init__(self):
        self.ids, self.labels = [], []

    def add(self, tokens, learned: bool):
        self.ids += tokens
        self.labels += tokens if learned else [IGNORE] * len(tokens)

    def turn(self, role_id: int, content, learned: bool, first=False):
        t = LLAMA3_IDS
        header = ([t.begin_of_text] if first else []) + [t.start_header, role_id, t.end_header, t.double_newline]
        self.add(header, False)
        for piece in content:
            self.add(piece, learned)
        self.add([t.eot], learned)


def _text(g, n):
    return torch.randint(0, 128000, (n,), generator=g).tolist()


def _between(g, lo, hi):
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def synthetic_tts_sample(
    g: torch.Generator,
    *,
    num_codebooks=8,
    audio_seconds=(2, 30),
    text_tokens=(20, 400),
    audio_in=True,
    sample_cls=ChatMLDatasetSample,
):
    """System prompt, user text (+ a reference voice as audio-in), assistant speech as audio-out."""
    t = LLAMA3_IDS
    b = _Builder()
    b.turn(t.system, [_text(g, _between(g, 10, 40))], learned=False, first=True)
    user = [_text(g, _between(g, *text_tokens))]
    if audio_in:
        user.append([t.audio_bos, t.audio_in, t.audio_eos])
    b.turn(t.user, user, learned=False)
    b.turn(t.assistant, [[t.audio_out_bos, t.audio_out, t.audio_eos]], learned=True)

    lo, hi = audio_seconds[0] * FRAMES_PER_SECOND, audio_seconds[1] * FRAMES_PER_SECOND
    lengths = [_between(g, lo, hi) for _ in range(2 if audio_in else 1)]
    codes = torch.randint(0, CODEBOOK_SIZE, (num_codebooks, sum(lengths)), generator=g)
    starts = torch.tensor([0] + lengths[:-1], dtype=torch.long).cumsum(0)
    return sample_cls(
        input_ids=torch.tensor(b.ids, dtype=torch.long),
        label_ids=torch.tensor(b.labels, dtype=torch.long),
        audio_ids_concat=codes,
        audio_ids_start=starts,
        audio_waveforms_concat=torch.zeros(0),
        audio_waveforms_start=torch.zeros(0, dtype=torch.long),
        audio_sample_rate=torch.zeros(0),
        audio_speaker_indices=torch.zeros(0, dtype=torch.long),
    )


def synthetic_tts_batch(batch_size: int, *, seed: int = 0, **kwargs):
    g = torch.Generator().manual_seed(seed)
    return [synthetic_tts_sample(g, **kwargs) for _ in range(batch_size)]


def synthetic_text_batch(
    batch_size: int, seq_len: int, *, seed: int = 0, exchanges: int = 3, sample_cls=ChatMLDatasetSample
):
    """Text-only chats of exactly `seq_len` tokens: a system prompt and `exchanges` user/assistant turns.

    Needs seq_len >= 6 + 12 * exchanges (every turn's header and end-of-turn token, one content token each).
    """
    t = LLAMA3_IDS
    if seq_len < 6 + 12 * exchanges:
        raise ValueError(f"seq_len: {seq_len} is too short for {exchanges} exchanges (at least {6 + 12 * exchanges})")
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch_size):
        b = _Builder()
        # <|begin_of_text|>, then 4 header tokens and an end-of-turn token per turn.
        budget = seq_len - 1 - (2 * exchanges + 1) * 5
        per_turn = budget // (2 * exchanges + 1)
        b.turn(t.system, [_text(g, budget - 2 * exchanges * per_turn)], learned=False, first=True)
        for _ in range(exchanges):
            b.turn(t.user, [_text(g, per_turn)], learned=False)
            b.turn(t.assistant, [_text(g, per_turn)], learned=True)
        samples.append(
            sample_cls(
                input_ids=torch.tensor(b.ids, dtype=torch.long),
                label_ids=torch.tensor(b.labels, dtype=torch.long),
                audio_ids_concat=torch.zeros((8, 0), dtype=torch.long),
                audio_ids_start=torch.zeros(0, dtype=torch.long),
                audio_waveforms_concat=torch.zeros(0),
                audio_waveforms_start=torch.zeros(0, dtype=torch.long),
                audio_sample_rate=torch.zeros(0),
                audio_speaker_indices=torch.zeros(0, dtype=torch.long),
            )
        )
    return samples


def higgs_collator_kwargs(**overrides):
    """The released model's ids and the fine-tuning hot path's flags."""
    t = LLAMA3_IDS
    kwargs = dict(
        whisper_processor=None,
        audio_in_token_id=t.audio_in,
        audio_out_token_id=t.audio_out,
        pad_token_id=t.pad,
        audio_stream_bos_id=t.stream_bos,
        audio_stream_eos_id=t.stream_eos,
        round_to=8,
        encode_whisper_embed=False,
        return_audio_in_tokens=True,
        use_delay_pattern=True,
    )
    kwargs.update(overrides)
    return kwargs


def voice_cloning_lengths(n: int, *, seed: int = 0, num_codebooks: int = 8, frames_per_second: int = 25):
    """(tokens, audio_frames), int64 numpy arrays of n samples of a voice-cloning pool in HiggsAudioV2Collator's
    layout: text of 20-400 tokens, a 3-10 s reference clip and a 2-30 s target clip; each clip of L frames
    takes L + K + 1 positions of the row (its frames, the stream BOS/EOS, the delay) and as many audio frames.
    """
    import numpy as np  # the rest of this module needs only torch

    rng = np.random.default_rng(seed)
    per_clip = num_codebooks + 1
    reference = (rng.uniform(3, 10, n) * frames_per_second).astype(np.int64) + per_clip
    target = (rng.uniform(2, 30, n) * frames_per_second).astype(np.int64) + per_clip
    audio = reference + target
    return rng.integers(20, 401, n) + audio, audio
