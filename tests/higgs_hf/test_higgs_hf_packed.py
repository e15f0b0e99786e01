"""HiggsAudioV2Collator(packed=True): the compiled path equals the twin bit for bit, and the packed row is the
padded batch's rows back to back (text without padding, each feature's first label -100, audio frames whose
mask is True)."""

import random

import pytest
import torch
from conftest import COMPILED
from higgs_hf_features import assert_batches_equal, assert_same_value, random_features, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate
from fastcollate.rolespan.packed import block_causal_mask

pytestmark = pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")
BACKENDS = ["python", "cpu"] if COMPILED else ["python"]
PACKED_KEYS = ["input_ids", "labels", "position_ids", "cu_seq_lens_q", "cu_seq_lens_k", "max_length_q", "max_length_k"]
AUDIO_KEYS = ["audio_input_ids", "audio_input_ids_mask", "audio_labels"]


def assert_packed_equal(got: dict, want: dict):
    assert list(got) == list(want)
    for key in want:
        if key.startswith("max_length"):
            assert type(got[key]) is int and got[key] == want[key], key
        else:
            assert got[key].dtype == want[key].dtype and torch.equal(got[key], want[key]), key


def padded_as_packed(padded: dict) -> dict:
    """What the packed batch must be, from the padded batch of the same features (either padding side)."""
    rows = padded["attention_mask"].bool()
    lengths = rows.sum(1).tolist()
    labels = padded["labels"].clone()
    for r in range(len(lengths)):
        first = torch.nonzero(rows[r]).flatten()
        if len(first):
            labels[r, first[0]] = -100
    cu = torch.tensor([0] + lengths).cumsum(0).to(torch.int32)
    want = {
        "input_ids": padded["input_ids"][rows].view(1, -1),
        "labels": labels[rows].view(1, -1),
        "position_ids": torch.cat([torch.arange(n) for n in lengths]).view(1, -1),
        "cu_seq_lens_q": cu,
        "cu_seq_lens_k": cu,
        "max_length_q": max(lengths),
        "max_length_k": max(lengths),
    }
    if "audio_input_ids" in padded:
        mask = padded["audio_input_ids_mask"]
        k = padded["audio_input_ids"].shape[-1]
        want["audio_input_ids"] = padded["audio_input_ids"][mask].view(1, -1, k)
        want["audio_input_ids_mask"] = torch.ones((1, int(mask.sum())), dtype=torch.bool)
        want["audio_labels"] = padded["audio_labels"][mask].view(1, -1, k)
    return want


OPTIONS = st.fixed_dictionaries(
    {"padding_side": st.sampled_from(["left", "right"]), "label_mode": st.sampled_from(["processor", "correct"])}
)


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
@settings(max_examples=300, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), options=OPTIONS, mixed=st.booleans())
def test_compiled_equals_twin(seed, options, mixed):  # num_codebooks=None: K varies with the seed
    features = random_features(seed, mixed=mixed, correct=options["label_mode"] == "correct")
    before = snapshot(features)
    python = fastcollate.HiggsAudioV2Collator(
        128001, num_codebooks=None, backend="python", packed=True, **options
    )._collate(features)
    cpu_collator = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend="cpu", packed=True, **options)
    cpu = cpu_collator._collate(features)
    assert_packed_equal(cpu[0], python[0])
    assert cpu[1] == int((python[1] == 0).sum())
    assert torch.equal(cpu_collator._collate_counts(features), python[1])
    for after, was in zip(snapshot(features), before):  # the features are never modified
        assert after.keys() == was.keys()
        for key in was:
            assert_same_value(after[key], was[key])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), options=OPTIONS, mixed=st.booleans())
def test_packed_is_the_padded_rows_back_to_back(backend, seed, options, mixed):
    features = random_features(seed, mixed=mixed, correct=options["label_mode"] == "correct")
    padded, _ = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend=backend, **options)._collate(
        features
    )
    packed, learned = fastcollate.HiggsAudioV2Collator(
        128001, num_codebooks=None, backend=backend, packed=True, **options
    )._collate(features)
    want = padded_as_packed(padded)
    assert_packed_equal(packed, want)
    assert list(packed) == PACKED_KEYS + (AUDIO_KEYS if "audio_input_ids" in padded else [])
    if backend == "python":  # learned per feature: the packed labels', text and audio
        cu = packed["cu_seq_lens_q"].tolist()
        text = [int((packed["labels"][0, a:b] != -100).sum()) for a, b in zip(cu, cu[1:])]
        audio = (padded["audio_labels"] != -100).flatten(1).sum(1).tolist() if "audio_labels" in padded else 0
        assert learned.tolist() == (torch.tensor(text) + torch.tensor(audio)).tolist()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_block_mask(backend, dtype):
    features = random_features(7, size=4)
    batch = fastcollate.HiggsAudioV2Collator(
        128001, num_codebooks=None, backend=backend, packed=True, block_mask_dtype=dtype
    )(features)
    mask = batch["attention_mask"]
    t = batch["input_ids"].shape[1]
    assert mask.shape == (1, 1, t, t) and mask.dtype == dtype
    assert torch.equal(mask, block_causal_mask(batch["cu_seq_lens_q"], dtype))
    without = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend=backend, packed=True)(features)
    assert "attention_mask" not in without


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(packed=True, pad_to_multiple_of=8), "pad_to_multiple_of: packed batches are not padded"),
        (dict(packed=True, block_mask_dtype=torch.bool), "block_mask_dtype: expected a floating torch.dtype"),
        (dict(packed=True, block_mask_dtype=torch.int64), "block_mask_dtype: expected a floating torch.dtype"),
        (dict(block_mask_dtype=torch.float32), "block_mask_dtype: only packed batches"),
        (dict(packed=1), "packed: expected a bool"),
    ],
)
def test_refused_options(options, message):
    with pytest.raises(ValueError, match=message):
        fastcollate.HiggsAudioV2Collator(128001, **options)


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_only_pack_has_no_audio_keys(backend):
    features = [{"input_ids": [128000, 5, 6, 7]}, {"input_ids": [128000, 8]}]
    batch = fastcollate.HiggsAudioV2Collator(128001, label_mode="processor", backend=backend, packed=True)(features)
    assert list(batch) == PACKED_KEYS
    assert batch["labels"].tolist() == [[-100, 5, 6, 7, -100, 8]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 0, 1]]
    assert batch["cu_seq_lens_q"].tolist() == [0, 4, 6] and batch["max_length_q"] == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_empty_drop_repacks_without_the_empty_feature(backend):
    # The second feature's only label is its first: packed, it learns nothing.
    features = [{"input_ids": [128000, 5, 6]}, {"input_ids": [9]}, {"input_ids": [128000, 8]}]
    options = dict(label_mode="processor", backend=backend, packed=True)  # the first token is the only label
    collator = fastcollate.HiggsAudioV2Collator(128001, on_empty="drop", **options)
    batch = collator(features)
    assert batch["input_ids"].tolist() == [[128000, 5, 6, 128000, 8]]
    assert batch["cu_seq_lens_q"].tolist() == [0, 3, 5]
    with pytest.raises(ValueError, match="sample 1: labels: no learned token: its only learned label is its first"):
        fastcollate.HiggsAudioV2Collator(128001, on_empty="error", **options)(features)


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
@pytest.mark.parametrize("seed", range(20))
def test_invalid_batches_raise_the_same_error(seed):
    """A broken feature in a packed batch: the same ValueError on both backends."""
    rng = random.Random(seed)
    features = random_features(seed, size=3, mixed=False)
    broken = features[rng.randrange(3)]
    codes = broken["audio_codes"] if isinstance(broken, dict) else broken.audio_codes
    codes.append(torch.zeros((1, 2), dtype=torch.int64))  # one clip too many
    errors = []
    for backend in ("python", "cpu"):
        with pytest.raises(ValueError) as info:
            fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend=backend, packed=True)(features)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_padded_batch_unchanged_by_the_option():
    features = random_features(3, size=3)
    a = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend="python")(features)
    b = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=None, backend="python", packed=False)(features)
    assert_batches_equal(a, b)
