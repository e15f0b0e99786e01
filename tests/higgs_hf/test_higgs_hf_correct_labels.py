"""HiggsAudioV2Collator(label_mode="correct"): labels checked against values written from the definition
(README, "Higgs Audio v2 in transformers"), on a hand-made chat and on random features."""

import numpy as np
import pytest
import torch
from conftest import backends
from higgs_hf_features import AUDIO, AUDIO_BOS, AUDIO_EOS, DELAY, PAD, random_features
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate
from fastcollate import presets
from fastcollate.rolespan.reference import mask_labels_reference

X = -100
SYSTEM = [128006, 9125, 128007, 271, 5, 128009]
USER_WITH_VOICE = [128006, 882, 128007, 271, 6, AUDIO_BOS, AUDIO, AUDIO_EOS, 128009]  # a reference voice
ASSISTANT_SPEECH = [128006, 78191, 128007, 271, AUDIO_BOS, AUDIO, AUDIO_EOS, 128009]
IDS = [128000] + SYSTEM + USER_WITH_VOICE + ASSISTANT_SPEECH
VOICE = torch.tensor([[1], [2]])  # K = 2, L = 1
SPEECH = torch.tensor([[3, 4], [5, 6]])  # K = 2, L = 2


def collate(backend, features, **options):
    """K from the batch's first clip: 2 in the hand-made chat, from 1 to 12 in the random features."""
    collator = fastcollate.HiggsAudioV2Collator(
        PAD, label_mode="correct", num_codebooks=None, backend=backend, **options
    )
    return collator(features)


@pytest.mark.parametrize("backend", backends())
def test_hand_made_chat(backend):
    batch = collate(backend, [{"input_ids": IDS, "audio_codes": [VOICE, SPEECH]}])
    # Each placeholder: L + 2 audio tokens, then K - 1 = 1 delay token.
    user = [128006, 882, 128007, 271, 6, AUDIO_BOS] + [AUDIO] * 3 + [DELAY] + [AUDIO_EOS, 128009]
    assistant = [128006, 78191, 128007, 271, AUDIO_BOS] + [AUDIO] * 4 + [DELAY] + [AUDIO_EOS, 128009]
    assert batch["input_ids"].tolist() == [[128000] + SYSTEM + user + assistant]
    # Learned: the assistant turn's content but its placeholders (<|audio_out_bos|>, <|audio_eos|>, <|eot_id|>).
    assistant_labels = [X] * 4 + [AUDIO_BOS] + [X] * 5 + [AUDIO_EOS, 128009]
    assert batch["labels"].tolist() == [[X] * (1 + len(SYSTEM) + len(user)) + assistant_labels]
    B, E = 1024, 1025  # stream BOS / EOS
    voice = [[B, B], [1, B], [E, 2], [E, E]]  # frames of the voice: codebook 1 delayed by one
    speech = [[B, B], [3, B], [4, 5], [E, 6], [E, E]]
    assert batch["audio_input_ids"].tolist() == [voice + speech]
    assert batch["audio_input_ids_mask"].tolist() == [[True] * 9]
    # The voice sits in a user turn: no-train. The speech learns its codes and each codebook's stream EOS.
    speech_labels = [[X, X], [3, X], [4, 5], [E, 6], [X, E]]
    assert batch["audio_labels"].tolist() == [[[X, X]] * 4 + speech_labels]


@pytest.mark.parametrize("backend", backends())
def test_start_index_and_no_train_flags(backend):
    voice_in_assistant = [128006, 78191, 128007, 271, AUDIO_BOS, AUDIO, AUDIO_EOS, 128009]
    ids = [128000] + voice_in_assistant + [128006, 882, 128007, 271, 5, 128009] + ASSISTANT_SPEECH
    clips = [VOICE, SPEECH]
    E = 1025  # stream EOS
    speech_labels = [[X, X], [3, X], [4, 5], [E, 6], [X, E]]
    voice_labels = [[X, X], [1, X], [E, 2], [X, E]]
    # Without start_index both assistant turns are learned, the voice too.
    batch = collate(backend, [{"input_ids": ids, "audio_codes": clips}])
    assert batch["audio_labels"].tolist() == [voice_labels + speech_labels]
    # start_index 2: turns 0 (the voice) and 1 are context.
    batch = collate(backend, [{"input_ids": ids, "audio_codes": clips, "start_index": 2}])
    assert batch["audio_labels"].tolist() == [[[X, X]] * 4 + speech_labels]
    assert batch["labels"][0, :14].eq(X).all()
    # Or the feature flags the voice.
    batch = collate(backend, [{"input_ids": ids, "audio_codes": clips, "audio_no_train": [True, False]}])
    assert batch["audio_labels"].tolist() == [[[X, X]] * 4 + speech_labels]
    assert batch["labels"][0, 5] == AUDIO_BOS  # its text is still the spec's


def expected_clip_labels(codes: torch.Tensor, learned: bool) -> list:
    """Frame t, codebook k of a clip of L codes: code t - k - 1 for k < t <= k + L, the stream EOS at
    t = k + L + 1, -100 elsewhere (head fill, stream BOS, tail fill); all -100 when not learned."""
    k_count, length = codes.shape
    rows = []
    for t in range(length + k_count + 1):
        row = []
        for k in range(k_count):
            if not learned or t <= k or t > k + length + 1:
                row.append(X)
            elif t == k + length + 1:
                row.append(1025)
            else:
                row.append(int(codes[k, t - k - 1]))
        rows.append(row)
    return rows


def as_int64(v) -> torch.Tensor:
    return torch.as_tensor(np.asarray(v).astype(np.int64))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), backend=st.sampled_from(backends()))
def test_random_features_follow_the_definition(seed, backend):
    features = [f if isinstance(f, dict) else vars(f) for f in random_features(seed, correct=True, objects=False)]
    batch = collate(backend, features, padding_side="right", on_empty="keep")
    spec = presets.llama3()
    for r, f in enumerate(features):
        ids = as_int64(f["input_ids"]).tolist()
        clips = [as_int64(c) for c in f.get("audio_codes") or []]
        spec_labels = mask_labels_reference(ids, spec, f.get("start_index")).tolist()
        flags = f.get("audio_no_train") or [False] * len(clips)
        text, audio, clip = [], [], 0
        for t, token in enumerate(ids):
            if token != AUDIO:
                text.append(spec_labels[t])
                continue
            codes = clips[clip]
            text += [X] * (codes.shape[1] + 2 + codes.shape[0] - 1)
            audio += expected_clip_labels(codes, spec_labels[t] != X and not flags[clip])
            clip += 1
        n = len(text)
        assert batch["labels"][r, :n].tolist() == text
        assert batch["labels"][r, n:].eq(X).all()
        if "audio_labels" in batch:
            assert batch["audio_labels"][r, : len(audio)].tolist() == audio
            assert batch["audio_labels"][r, len(audio) :].eq(X).all()
            frames = batch["audio_labels"].shape[1]
            assert batch["audio_input_ids_mask"][r].tolist() == [t < len(audio) for t in range(frames)]
