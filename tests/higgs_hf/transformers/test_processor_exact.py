"""HiggsAudioV2Collator(label_mode="processor") against transformers' HiggsAudioV2Processor itself: every key,
dtype, shape and value, over hypothesis batches (1-8 samples, 1-4 clips each, K 1-12, L 1-400), and the
processor's failures the README names, observed on the real thing."""

import pytest
import torch
from hf_reference import features_of, processor, random_case, run_processor
from hypothesis import given, settings
from hypothesis import strategies as st

import fastcollate

BACKENDS = ["python", "cpu"] if fastcollate.backend_info()["compiled"] else ["python"]


def assert_same_batch(got: dict, want) -> None:
    assert list(got) == list(want.keys())
    for key in want.keys():
        assert got[key].dtype == want[key].dtype, key
        assert got[key].shape == want[key].shape, key
        assert torch.equal(got[key], want[key]), key


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), padding_side=st.sampled_from(["left", "right"]))
def test_bit_exact_with_the_processor(seed, padding_side):
    texts, clips, k = random_case(seed)
    proc = processor(k)
    want = run_processor(proc, texts, clips, padding_side=padding_side)
    features = features_of(texts, clips, proc.tokenizer)
    for backend in BACKENDS:
        collator = fastcollate.HiggsAudioV2Collator.from_processor(
            proc, label_mode="processor", padding_side=padding_side, backend=backend
        )
        assert_same_batch(collator(features), want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_collator_equals_the_processor_defaults(backend):
    """The defaults are transformers' Higgs ids, the released model's 8 codebooks and the processor's left
    padding; the processor's labels are label_mode="processor" (the default, "correct", trains what they miss)."""
    texts, clips, k = random_case(7, samples=4, codebooks=8, max_len=60)
    proc = processor(k)
    want = run_processor(proc, texts, clips)
    collator = fastcollate.HiggsAudioV2Collator(128001, label_mode="processor", backend=backend)
    got = collator(features_of(texts, clips, proc.tokenizer))
    assert_same_batch(got, want)


def test_the_processor_rejects_a_mixed_batch():
    """A sample without audio next to one with audio: the processor fails (the collator handles it)."""
    proc = processor(2)
    with pytest.raises(ValueError, match=r"torch.cat\(\): expected a non-empty list of Tensors"):
        run_processor(proc, ["hello <|AUDIO_OUT|>", "world"], [torch.zeros((2, 3), dtype=torch.long)])


def test_the_processor_rewrites_the_callers_text():
    proc = processor(2)
    proc.audio_tokenizer.queue = [torch.zeros((2, 3), dtype=torch.long)]
    texts = ["hello <|AUDIO_OUT|>"]
    proc(texts, [torch.zeros(8).numpy()], output_labels=True, return_tensors="pt")
    assert texts[0].count("<|AUDIO_OUT|>") == 5  # L + 2 copies: the list now holds the expanded text


def test_the_processor_labels_never_learn_the_stream_eos():
    texts, clips, k = random_case(3, samples=2, codebooks=4, max_len=20)
    batch = run_processor(processor(k), texts, clips)
    assert (batch["audio_input_ids"] == 1025).any()
    assert not (batch["audio_labels"] == 1025).any()
