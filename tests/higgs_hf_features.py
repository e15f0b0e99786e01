"""Seeded random HiggsAudioV2Collator features: Llama-3 chats whose turns hold audio placeholders, in every
input form (lists, tensors of both dtypes, strided views, numpy arrays; Mappings and objects)."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import torch

from fastcollate.synthetic import LLAMA3_IDS as t

AUDIO, DELAY, AUDIO_BOS, AUDIO_EOS = 128016, 128014, 128013, 128012
PAD, STREAM_BOS, STREAM_EOS = t.pad, 1024, 1025
ROLES = {"system": t.system, "user": t.user, "assistant": t.assistant}


def chat_ids(rng: random.Random, n_clips: int, max_words=6) -> list:
    """<|begin_of_text|> then turns; the clips sit in random turns as <|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>."""
    n_turns = rng.randint(1, 4)
    slots = [rng.randrange(n_turns) for _ in range(n_clips)]
    ids = [t.begin_of_text]
    for turn in range(n_turns):
        role = rng.choice(list(ROLES)) if turn < n_turns - 1 else rng.choice(["assistant", "user"])
        ids += [t.start_header, ROLES[role], t.end_header, t.double_newline]
        ids += [rng.choice([5, 6, 7, 1000, AUDIO_BOS, PAD]) for _ in range(rng.randint(0, max_words))]
        for _ in range(slots.count(turn)):
            ids += [AUDIO_BOS, AUDIO, AUDIO_EOS] if rng.random() < 0.8 else [AUDIO]
        if rng.random() < 0.9:
            ids.append(rng.choice([t.eot, t.eot, t.eom]))
    return ids


def as_form(rng: random.Random, values, ndim: int):
    """The same integers as a list, an int32/int64 tensor (sometimes strided) or a numpy array."""
    form = rng.choice(["list", "int64", "int32", "strided", "numpy"])
    if form == "list":
        return values.tolist() if isinstance(values, torch.Tensor) else list(values)
    x = torch.as_tensor(values, dtype=torch.int64).reshape(-1) if ndim == 1 else torch.as_tensor(values)
    if form == "numpy":
        # Token ids need 32 bits; codes (< 1024) fit any integer dtype. ">i8": big-endian, converted natively.
        dtypes = [np.int32, np.int64, np.uint32, ">i8"] if ndim == 1 else [np.int16, np.int32, np.int64, np.uint16]
        return x.numpy().astype(rng.choice(dtypes))
    if form == "strided" and x.numel():
        return (x.t().contiguous().t() if ndim == 2 else torch.stack([x, x], 1)[:, 0]).to(torch.int32)
    return x.to(torch.int32 if form == "int32" else torch.int64)


def random_features(
    seed: int, *, size=None, codebooks=None, max_len=12, max_clips=3, mixed=True, correct=False, objects=True
):
    """A batch: one K for every clip, 0..max_clips clips per feature (at least one each unless `mixed`)."""
    rng = random.Random(seed)
    k = codebooks or rng.randint(1, 12)
    g = torch.Generator().manual_seed(seed)
    features = []
    for _ in range(size or rng.randint(1, 6)):
        n_clips = rng.randint(0 if mixed else 1, max_clips)
        ids = chat_ids(rng, n_clips)
        clips = [
            torch.randint(0, 1024, (k, rng.randint(0 if mixed else 1, max_len)), generator=g) for _ in range(n_clips)
        ]
        f = {"input_ids": as_form(rng, ids, 1), "audio_codes": [as_form(rng, c, 2) for c in clips]}
        if not clips and rng.random() < 0.5:  # absent or None: no clip, as an empty list
            f.pop("audio_codes") if rng.random() < 0.5 else f.update(audio_codes=None)
        if correct:
            if rng.random() < 0.5:
                f["start_index"] = rng.randint(0, 4)
            if clips and rng.random() < 0.5:
                f["audio_no_train"] = [rng.random() < 0.3 for _ in clips]
        features.append(SimpleNamespace(**f) if objects and rng.random() < 0.3 else f)
    return features


def snapshot(features):
    """Deep copies of every value, to check the collator modified nothing."""

    def copy(v):
        if isinstance(v, torch.Tensor):
            return v.clone()
        if isinstance(v, np.ndarray):
            return v.copy()
        if isinstance(v, list):
            return [copy(x) for x in v]
        return v

    return [{k: copy(v) for k, v in (f.items() if isinstance(f, dict) else vars(f).items())} for f in features]


def assert_same_value(a, b):
    assert type(a) is type(b)
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_value(x, y)
    else:
        assert a == b


def assert_batches_equal(got: dict, want: dict):
    assert list(got) == list(want)
    for key in want:
        assert got[key].dtype == want[key].dtype, key
        assert got[key].shape == want[key].shape, key
        assert torch.equal(got[key], want[key]), key
