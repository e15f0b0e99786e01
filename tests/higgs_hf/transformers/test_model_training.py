"""A tiny randomly initialised HiggsAudioV2ForConditionalGeneration trains on HiggsAudioV2Collator batches in
both label modes: forward + backward give a finite loss and finite gradients. Its config needs
codebook_size=1026: the default 1024 fails on the stream BOS/EOS ids (1024, 1025)."""

import hf_reference
import pytest
import torch
from hf_reference import features_of, llama3_tokenizer, random_case

import fastcollate

K = 4


def tiny_model(codebook_size=1026):
    return hf_reference.tiny_model(K, codebook_size)


def features(mixed=False):
    texts, clips, _ = random_case(11, samples=3, codebooks=K, max_len=30)
    out = features_of(texts, clips, llama3_tokenizer())
    if mixed:  # a text-only sample too: the processor cannot make this batch
        out.append({"input_ids": llama3_tokenizer()("<|start_header_id|>user<|end_header_id|> ĊĊ hello")["input_ids"]})
    return out


@pytest.mark.parametrize("label_mode", ["processor", "correct"])
@pytest.mark.parametrize("mixed", [False, True])
def test_forward_backward_gives_a_finite_loss(label_mode, mixed):
    model = tiny_model()
    collator = fastcollate.HiggsAudioV2Collator(128001, label_mode=label_mode, num_codebooks=K, on_empty="keep")
    batch = collator(features(mixed))
    out = model(**batch)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_the_correct_mode_trains_the_stream_eos():
    """Only the correct mode's audio labels hold the stream EOS (1025): the frame where generation must stop is
    a target of every codebook."""
    batch = {
        m: fastcollate.HiggsAudioV2Collator(128001, label_mode=m, num_codebooks=K)(features())
        for m in ("processor", "correct")
    }
    assert (batch["correct"]["audio_labels"] == 1025).any() and not (batch["processor"]["audio_labels"] == 1025).any()


def test_the_default_codebook_size_fails():
    model = tiny_model(codebook_size=1024)
    batch = fastcollate.HiggsAudioV2Collator(128001, num_codebooks=K)(features())
    with pytest.raises(IndexError):
        model(**batch)
