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

CLIP = torch.zeros((2, 3), dtype=torch.long)  # K = 2: the collators below are told so (8 is the default)
ONE = [128000, 5, AUDIO, 6]
SPEECH = [128000, 128006, 78191, 128007, 271, 128013, AUDIO, 128012, 128009]  # an assistant turn with one clip


def collate(backend, features, **options):
    return fastcollate.HiggsAudioV2Collator(PAD, backend=backend, **{"num_codebooks": 2, **options})(features)


FEATURE_ERRORS = [
    # (features, options, message)
    ([], {}, "batch: is empty, nothing to collate"),
    ({"input_ids": ONE}, {}, "batch: expected a list of samples, got dict"),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}, {"input_ids": [1], "labels": [1]}],
        {},
        "sample 1: labels: is not a feature HiggsAudioV2Collator reads (input_ids, audio_codes, start_index, "
        "audio_no_train); drop it from the features (e.g. dataset.remove_columns) or list it in ignore_keys to skip it",
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
        {"label_mode": "processor"},
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
        "sample 0: audio_codes[0]: has shape (2, 3), 2 codebooks, expected num_codebooks=8; a clip is (K, L): K "
        "codebooks by L frames. If the codec has 2 codebooks, pass num_codebooks=2.",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}, {"input_ids": [AUDIO, AUDIO], "audio_codes": [CLIP, CLIP[:1]]}],
        {"num_codebooks": None},
        "sample 1: audio_codes[1]: has shape (1, 3), 1 codebooks, but earlier clips in the batch have 2; a clip is "
        "(K, L): K codebooks by L frames. Every clip of a batch has the same number of codebooks.",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP]}, {"input_ids": ONE, "audio_codes": [CLIP.T]}],
        {"num_codebooks": None},
        "sample 1: audio_codes[0]: has shape (3, 2), 3 codebooks, but earlier clips in the batch have 2; a clip is "
        "(K, L): K codebooks by L frames. It looks like (L, K): pass it transposed (codes.T).",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [torch.tensor([[1, 2, 3], [4, 1024, 6]])]}],
        {},
        "sample 0: audio_codes[0]: holds the code 1024 at frame 1, codebook 1; codes lie in [0, 1024) "
        "(codebook_size=1024). 1024 is the stream BOS, which the collator adds itself: give the codec's codes only.",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [torch.tensor([[1, 2, 1025], [4, 5, 9]], dtype=torch.int32)]}],
        {"label_mode": "processor"},
        "sample 0: audio_codes[0]: holds the code 1025 at frame 2, codebook 0; codes lie in [0, 1024) "
        "(codebook_size=1024). 1025 is the stream EOS, which the collator adds itself: give the codec's codes only.",
    ),
    (
        [
            {"input_ids": ONE, "audio_codes": [[[1, 2, 3], [4, 5, 6]]]},
            {"input_ids": ONE, "audio_codes": [[[7, 8, 9], [-5, 0, 3000]]]},
        ],
        {},
        "sample 1: audio_codes[0]: holds the code -5 at frame 0, codebook 1; codes lie in [0, 1024) "
        "(codebook_size=1024).",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [np.array([[1, 2], [300, 4]], dtype=np.uint16)]}],
        {"codebook_size": 256},
        "sample 0: audio_codes[0]: holds the code 300 at frame 0, codebook 1; codes lie in [0, 256) "
        "(codebook_size=256).",
    ),
    (
        [{"input_ids": ONE, "audio_codes": [CLIP], "audio_no_train": [True]}],
        {"label_mode": "processor"},
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
        {"label_mode": "processor", "label_spec": presets.llama3()},
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
    ({"codebook_size": 0}, "codebook_size: expected an int >= 1, got 0"),
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
    # start_index skipped on purpose: label_mode "processor" would refuse it
    got = collate(backend, features, label_mode="processor", ignore_keys=("text", "start_index"))
    want = collate(backend, [{"input_ids": ONE, "audio_codes": [CLIP]}], label_mode="processor")
    assert all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("backend", backends())
def test_a_transposed_clip_is_named_under_the_default_num_codebooks(backend):
    """The issue's example: a (L, K) clip, torch.randint(0, 1024, (30, 8)), under label_mode "correct" and the
    default num_codebooks (8, the released model's) is refused before any batch is built, with the transpose."""
    clip = torch.randint(0, 1024, (30, 8))
    collator = fastcollate.HiggsAudioV2Collator(PAD, label_mode="correct", backend=backend)
    with pytest.raises(ValueError) as raised:
        collator([{"input_ids": SPEECH, "audio_codes": [clip]}])
    assert str(raised.value) == (
        "sample 0: audio_codes[0]: has shape (30, 8), 30 codebooks, expected num_codebooks=8; a clip is (K, L): K "
        "codebooks by L frames. It looks like (L, K): pass it transposed (codes.T)."
    )
    batch = collator([{"input_ids": SPEECH, "audio_codes": [clip.T]}])
    assert batch["audio_input_ids"].shape == (1, 30 + 8 + 1, 8)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("code, name", [(1024, "the stream BOS"), (-5, None), (4096, None), (-(2**31), None)])
@pytest.mark.parametrize("form", ["int64", "int32", "strided int32", "codebook-major view"])
def test_codes_outside_the_codebook_name_the_first_bad_frame(backend, code, name, form):
    """Codes of 1024 (the stream BOS) or -5 were accepted without a word; the first bad code in frame order
    (frame 3, codebook 5 comes before frame 4, codebook 0) is named, whatever the clip's dtype and strides."""
    clip = torch.randint(0, 1024, (8, 10))
    clip[5, 3] = code
    clip[0, 4] = code
    if form != "int64":
        clip = clip.to(torch.int32)
    if form == "strided int32":
        clip = torch.stack([clip, clip], 2)[:, :, 0]  # a column stride of 2
    if form == "codebook-major view":
        clip = clip.t().contiguous().t()  # frames outer in memory
    with pytest.raises(ValueError) as raised:
        fastcollate.HiggsAudioV2Collator(PAD, backend=backend)([{"input_ids": ONE, "audio_codes": [clip]}])
    message = str(raised.value)
    assert message.startswith(
        f"sample 0: audio_codes[0]: holds the code {code} at frame 3, codebook 5; codes lie in [0, 1024) "
        "(codebook_size=1024)."
    )
    assert ("is the stream BOS, which the collator adds itself" in message) == (name is not None)
