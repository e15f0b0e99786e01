"""HiggsAudioV2Collator: every ValueError, with its message, on every backend (and the same first error)."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import backends
from higgs_hf_features import AUDIO, DELAY, PAD

import fastcollate
from fastcollate import presets

CLIP = torch.zeros((2, 3), dtype=torch.long)
ONE = [128000, 5, AUDIO, 6]


def collate(backend, features, **options):
    return fastcollate.HiggsAudioV2Collator(PAD, backend=backend, **options)(features)


FEATURE_ERRORS = [
    # (features, options, message)
    ([], {}, "batch: is empty, nothing to collate"),
    ({"input_ids": ONE}, {}, "batch: expected a list of samples, got dict"),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}, {"input_ids": [1], "labels": [1]}],
        {},
        "sample 1: labels: is not a feature HiggsAudioV2Collator reads (input_ids, audio_codes, start_index, "
        "audio_no_train); drop it from the features (e.g. dataset.remove_columns) or name it in ignore_keys=",
    ),
    # keys are checked for the whole batch before any value
    ([{"input_ids": "x"}, {"input_ids": [1], "other": 1}], {}, "sample 1: other: is not a feature"),
    ([{"audio_codes": []}], {}, "sample 0: input_ids: missing: the feature (a Mapping) has no such key"),
    (
        [SimpleNamespace(audio_codes=[])],
        {},
        "sample 0: input_ids: missing: the feature (a SimpleNamespace) has no such attribute",
    ),
    ([{"input_ids": [1.5]}], {}, "sample 0: input_ids: expected a list of ints, got float at position 0"),
    (
        [{"input_ids": torch.zeros(3)}],
        {},
        "sample 0: input_ids: expected dtype torch.int32 or torch.int64, got torch.float32",
    ),
    ([{"input_ids": [[1]]}], {}, "sample 0: input_ids: expected a list of ints, got list at position 0"),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "start_index": 2}],
        {},
        "sample 0: start_index: is 2, but label_mode='processor' learns every turn (the processor's labels); use "
        "label_mode='correct' to learn only the turns from start_index on, or drop start_index",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "start_index": 2}],
        {"label_mode": "correct", "label_spec": presets.llama3(turns="all")},
        "sample 0: start_index: is 2, but the spec selects turns='all', which does not read start_index",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "start_index": "2"}],
        {"label_mode": "correct"},
        "sample 0: start_index: expected an int or None, got str",
    ),
    (
        [{"input_ids": [1, AUDIO, DELAY]}],
        {},
        f"sample 0: input_ids: holds the audio delay token {DELAY} at position "
        f"2; give one audio token ({AUDIO}) per clip: the collator writes each "
        "clip's placeholders and delay tokens itself",
    ),
    (
        [{"input_ids": ONE, "audio_codes": CLIP}],
        {},
        "sample 0: audio_codes: expected a list of (K, L) code arrays, one per audio placeholder, got Tensor",
    ),
    (
        [{"input_ids": [1, 2]}, {"input_ids": ONE}],
        {},
        f"sample 1: audio_codes: 0 clip(s) for 1 audio placeholder(s) ({AUDIO}) in input_ids",
    ),
    (
        [{"input_ids": [1, 2], "audio_codes": [CLIP]}],
        {},
        f"sample 0: audio_codes: 1 clip(s) for 0 audio placeholder(s) ({AUDIO}) in input_ids",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [torch.zeros(3, dtype=torch.long)]}],
        {},
        "sample 0: audio_codes[0]: expected a 2-D tensor, got shape (3,)",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [np.zeros((2, 3))]}],
        {},
        "sample 0: audio_codes[0]: expected an integer dtype, got buffer format 'd'",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [[[1, 2], [3]]]}],
        {},
        "sample 0: audio_codes[0]: row 1 has 1 entries, row 0 has 2",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [torch.zeros((0, 3), dtype=torch.long)]}],
        {},
        "sample 0: audio_codes[0]: has 0 codebooks (shape (0, 3)); expected (K, L) with K >= 1",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}],
        {"num_codebooks": 8},
        "sample 0: audio_codes[0]: has 2 codebooks, expected num_codebooks=8",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}, {"input_ids": [AUDIO, AUDIO], "audio_codes": [CLIP, CLIP[:1]]}],
        {},
        "sample 1: audio_codes[1]: has 1 codebooks, but earlier clips in the batch have 2",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "audio_no_train": [True]}],
        {},
        "sample 0: audio_no_train: is given, but label_mode='processor' learns every clip (the processor's labels); "
        "use label_mode='correct' to mark clips no-train, or drop audio_no_train",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "audio_no_train": [1]}],
        {"label_mode": "correct"},
        "sample 0: audio_no_train: expected a list of bools, one per clip, got list",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "audio_no_train": torch.tensor([1])}],
        {"label_mode": "correct"},
        "sample 0: audio_no_train: expected a list of bools, one per clip, got Tensor of dtype torch.int64 and "
        "shape (1,)",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "audio_no_train": [True, False]}],
        {"label_mode": "correct"},
        "sample 0: audio_no_train: 2 flag(s) for 1 clip(s)",
    ),
]


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("features, options, message", FEATURE_ERRORS)
def test_feature_errors(backend, features, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        collate(backend, features, **options)


CONSTRUCTOR_ERRORS = [
    ({"label_mode": "fixed"}, "label_mode: expected one of ('processor', 'correct'), got 'fixed'"),
    (
        {"label_spec": presets.llama3()},
        "label_spec: only label_mode='correct' reads it; label_mode='processor' "
        "reproduces the processor's labels: pass label_mode='correct' or drop label_spec",
    ),
    (
        {"label_mode": "correct", "label_spec": "llama3"},
        "label_spec: expected a fastcollate.RoleSpanSpec or None, got str",
    ),
    (
        {"label_mode": "correct", "audio_bos_token_id": 128013},
        "audio_bos_token_id: only label_mode='processor' reads it (its labels mask <|audio_out_bos|>); under "
        "label_mode='correct' the label_spec decides which tokens are learned: drop audio_bos_token_id",
    ),
    (
        {"label_mode": "correct", "label_spec": presets.llama3(always_masked=(AUDIO,))},
        f"label_spec: always_masked holds audio_token_id {AUDIO}; a clip is learned where the spec learns its "
        "placeholder, so every clip would be no-train",
    ),
    ({"audio_token_id": 7.0}, "audio_token_id: expected an int, got 7.0"),
    ({"audio_token_id": True}, "audio_token_id: expected an int, got True"),
    ({"audio_stream_eos_id": -1}, "audio_stream_eos_id: expected an id >= 0, got -1"),
    ({"audio_delay_token_id": AUDIO}, f"audio_token_id and audio_delay_token_id must differ (both are {AUDIO})"),
    (
        {"audio_token_id": PAD},
        f"pad_token_id: equals audio_token_id ({PAD}); the model would read every padding position as an audio frame",
    ),
    ({"audio_stream_bos_id": 1025}, "audio_stream_bos_id and audio_stream_eos_id must differ (both are 1025)"),
    ({"padding_side": "top"}, "padding_side: expected one of ('left', 'right'), got 'top'"),
    ({"pad_to_multiple_of": 0}, "pad_to_multiple_of: expected an int >= 1 that fits in int64, or None, got 0"),
    ({"num_codebooks": 0}, "num_codebooks: expected None or an int >= 1, got 0"),
    ({"on_empty": "ignore"}, "on_empty: expected one of ('error', 'warn', 'drop', 'keep'), got 'ignore'"),
    ({"ignore_keys": "messages"}, "ignore_keys: expected a collection of key names, got the string 'messages'"),
    ({"ignore_keys": ["audio_codes"]}, "ignore_keys: ['audio_codes'] are the features every batch is made of"),
    ({"backend": "gpu"}, "backend: expected one of ('auto', 'python', 'cpu', 'cuda'), got 'gpu'"),
    ({"backend": "cuda"}, "backend: 'cuda' has no kernels for HiggsAudioV2Collator yet; use 'cpu'"),
]


@pytest.mark.parametrize("options, message", CONSTRUCTOR_ERRORS)
def test_constructor_errors(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fastcollate.HiggsAudioV2Collator(PAD, **options)


def test_pad_token_id_is_required():
    with pytest.raises(TypeError, match="pad_token_id"):
        fastcollate.HiggsAudioV2Collator()


@pytest.mark.parametrize("backend", backends())
def test_ignore_keys_skips_named_keys_and_fields(backend):
    features = [{"input_ids": ONE, "audio_codes": [CLIP], "text": "hi", "start_index": 3}]
    got = collate(backend, features, ignore_keys=("text", "start_index"))  # start_index skipped on purpose
    want = collate(backend, [{"input_ids": ONE, "audio_codes": [CLIP]}])
    assert all(torch.equal(got[k], want[k]) for k in want)
