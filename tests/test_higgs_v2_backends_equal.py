"""HiggsAudioV2Collator: the compiled path against the pure-Python twin, bit for bit, or the very same ValueError."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate
from higgs_v2_features import assert_batches_equal, random_features

from conftest import COMPILED

pytestmark = [pytest.mark.skipif(not COMPILED, reason="compiled extension not built"),
              pytest.mark.filterwarnings("ignore::fastcollate.EmptySampleWarning")]

OPTIONS = st.fixed_dictionaries({
    "padding_side": st.sampled_from(["left", "right"]),
    "pad_to_multiple_of": st.sampled_from([None, 1, 8]),
    "label_mode": st.sampled_from(["processor", "correct"]),
})


def collate_both(features, **options):
    outcomes = []
    for backend in ("python", "cpu"):
        try:
            outcomes.append(fastcollate.HiggsAudioV2Collator(128001, backend=backend, **options)._collate(features))
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


@settings(max_examples=300, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), options=OPTIONS, mixed=st.booleans())
def test_compiled_equals_twin(seed, options, mixed):
    features = random_features(seed, mixed=mixed, correct=options["label_mode"] == "correct")
    python, cpu = collate_both(features, **options)
    assert not isinstance(python, ValueError), python  # the generator makes valid batches
    assert_batches_equal(cpu[0], python[0])
    # What the on_empty policy reads: features learning nothing, and then the learned labels per feature.
    assert cpu[1] == int((python[1] == 0).sum())
    collator = fastcollate.HiggsAudioV2Collator(128001, backend="cpu", **options)
    assert torch.equal(collator._collate_counts(features), python[1])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), codebooks=st.sampled_from([1, 8, 12]))
def test_long_clips_cross_frame_blocks(seed, codebooks):
    """Clips longer than the fill's 64-frame blocks, in both modes."""
    for mode in ("processor", "correct"):
        features = random_features(seed, codebooks=codebooks, max_len=300, max_clips=2, size=3,
                                   correct=mode == "correct")
        python, cpu = collate_both(features, label_mode=mode)
        assert_batches_equal(cpu[0], python[0])


def test_text_only_batch_has_no_audio_keys():
    for backend in ("python", "cpu"):
        batch = fastcollate.HiggsAudioV2Collator(128001, backend=backend)([{"input_ids": [1, 2, 3]}])
        assert list(batch) == ["input_ids", "attention_mask", "labels"]
