"""Random and adversarial Higgs Audio samples for the tests, all driven by one seed."""

from __future__ import annotations

import random

import torch

from fastcollate import ChatMLDatasetSample
from fastcollate.synthetic import LLAMA3_IDS

AUDIO_IN, AUDIO_OUT = LLAMA3_IDS.audio_in, LLAMA3_IDS.audio_out
BOS, EOS, PAD = LLAMA3_IDS.stream_bos, LLAMA3_IDS.stream_eos, LLAMA3_IDS.pad
KW = dict(
    audio_in_token_id=AUDIO_IN,
    audio_out_token_id=AUDIO_OUT,
    pad_token_id=PAD,
    audio_stream_bos_id=BOS,
    audio_stream_eos_id=EOS,
)


def maybe_strided(t: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """The same values, sometimes through a non-contiguous view."""
    if rng.random() < 0.5 or t.numel() == 0:
        return t
    if t.dim() == 1:
        wide = torch.zeros(2 * len(t), dtype=t.dtype)
        wide[::2] = t
        return wide[::2]
    return t.t().contiguous().t()  # column-major view of a 2-D tensor


def random_sample(
    rng: random.Random, *, num_codebooks: int, with_labels: bool, with_audio_labels=False, max_tokens=24, max_frames=5
):
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    n = rng.randint(0, max_tokens)
    vocab = [1, 2, 3, 271, 128009, AUDIO_IN, AUDIO_OUT]
    ids = torch.tensor([rng.choice(vocab) for _ in range(n)], dtype=torch.long)
    n_audio = int(((ids == AUDIO_IN) | (ids == AUDIO_OUT)).sum())
    lengths = [rng.randint(0, max_frames) for _ in range(n_audio)]
    codes = torch.randint(0, 1024, (num_codebooks, sum(lengths)), generator=g)
    starts = torch.tensor([0] + lengths[:-1], dtype=torch.long).cumsum(0)[:n_audio]
    labels = None
    if with_labels:
        labels = torch.where(torch.rand(n, generator=g) < 0.5, ids, torch.full_like(ids, -100))
    dtype = rng.choice([torch.int32, torch.int64])
    return ChatMLDatasetSample(
        input_ids=maybe_strided(ids.to(dtype), rng),
        label_ids=None if labels is None else maybe_strided(labels.to(rng.choice([torch.int32, torch.int64])), rng),
        audio_ids_concat=maybe_strided(codes.to(rng.choice([torch.int32, torch.int64])), rng),
        audio_ids_start=maybe_strided(starts, rng),
        audio_waveforms_concat=torch.zeros(0),
        audio_waveforms_start=torch.zeros(0, dtype=torch.long),
        audio_sample_rate=torch.zeros(0),
        audio_speaker_indices=torch.zeros(0, dtype=torch.long),
        audio_label_ids_concat=(
            torch.where(torch.rand(codes.shape, generator=g) < 0.3, -100, codes) if with_audio_labels else None
        ),
        reward=rng.choice([None, rng.uniform(-2, 2)]),
    )


def random_batch(seed: int, *, audio_num_codebooks=None, with_labels=True, with_audio_labels=False, size=None):
    rng = random.Random(seed)
    base = rng.choice([1, 2, 8, 12])
    batch = []
    for _ in range(size or rng.randint(1, 5)):
        k = base if audio_num_codebooks is None else rng.randint(audio_num_codebooks, 12)
        batch.append(random_sample(rng, num_codebooks=k, with_labels=with_labels, with_audio_labels=with_audio_labels))
    return batch


def assert_batches_equal(got, want):
    """Every field equal: same None-ness, dtype, shape and values."""
    for name in want.__dataclass_fields__:
        a, b = getattr(got, name), getattr(want, name)
        if b is None or a is None:
            assert a is None and b is None, f"{name}: {a!r} vs {b!r}"
            continue
        assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} vs {b.dtype}"
        assert a.shape == b.shape, f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        assert torch.equal(a, b), f"{name}: values differ"


def snapshot(batch):
    """Deep copies of every tensor of every sample, to check nothing was mutated."""
    return [{k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in vars(s).items()} for s in batch]


def whisper_setup(seconds=(0.4, 0.7), rate=16000):
    """(a whisper processor stand-in, TTS samples whose audio-in tokens carry waveforms of those durations)."""
    from types import SimpleNamespace

    from transformers import WhisperFeatureExtractor

    from fastcollate.synthetic import synthetic_tts_batch

    processor = SimpleNamespace(feature_extractor=WhisperFeatureExtractor(feature_size=128))
    batch = synthetic_tts_batch(len(seconds), seed=3, audio_seconds=(0, 1))
    g = torch.Generator().manual_seed(0)
    for s, duration in zip(batch, seconds):
        s.audio_waveforms_concat = torch.rand(int(duration * rate), generator=g) * 2 - 1
        s.audio_waveforms_start = torch.tensor([0])
        s.audio_sample_rate = torch.tensor([rate])
    return processor, batch
