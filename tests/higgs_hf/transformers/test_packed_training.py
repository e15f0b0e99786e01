"""HiggsAudioV2Collator(packed=True) trains a tiny random HiggsAudioV2ForConditionalGeneration exactly like the
same features collated one by one: per-token text and audio losses, the model's own (summed) loss and the
gradients agree within 1e-5 in float32, under eager and sdpa attention.

What keeps the packed features apart in transformers 5.23 (masking_utils.create_causal_mask):

* `position_ids` restarting at 0 per feature and NO `attention_mask`: the mask builder detects the packing
  from the position ids (it looks only when attention_mask is None) and builds a block-causal mask; or
* a float additive (1, 1, T, T) block-causal `attention_mask` (block_mask_dtype=torch.float32), used as it is.

`cu_seq_lens_q/k` and `max_length_q/k` are read only by flash-attention varlen (not on a CPU): eager and sdpa
ignore them, which the tests below show by passing them along. The forms that run without an error and train
the wrong thing (a 2-D mask beside position_ids, a bool 4-D mask under eager, no position_ids) are shown wrong
at the end: the collator never produces them.
"""

import random

import hf_reference
import pytest
import torch
from hf_reference import chat_text, llama3_tokenizer

import fastcollate
from fastcollate.rolespan.packed import block_causal_mask

K = 4
IGNORE = -100
TOL = dict(atol=1e-5, rtol=1e-5)
TEXT_ONLY, ONE_CLIP, CLIPS, NO_TRAIN = "text-only", "one clip", "several clips", "no-train clip"


def tiny_model(attn: str):
    model = hf_reference.tiny_model(K, attn_implementation=attn, num_hidden_layers=2).eval()
    assert model.config._attn_implementation == attn
    return model


def random_pack(seed: int, label_mode: str):
    """1-8 features of every kind (a no-train clip only in the correct mode, the only one that reads it)."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    kinds = [TEXT_ONLY, ONE_CLIP, CLIPS] + ([NO_TRAIN] if label_mode == "correct" else [])
    features = []
    for _ in range(rng.randint(1, 8)):
        kind = rng.choice(kinds)
        n = {TEXT_ONLY: 0, ONE_CLIP: 1}.get(kind, rng.randint(2, 3))
        ids = llama3_tokenizer()(chat_text(rng, n))["input_ids"]
        clips = [torch.randint(0, 1024, (K, rng.randint(1, 10)), generator=g) for _ in range(n)]
        f = {"input_ids": ids, "audio_codes": clips}
        if kind == NO_TRAIN:
            f["audio_no_train"] = [j == 0 for j in range(n)]  # e.g. a voice reference
        features.append(f)
    return features


def per_token_losses(model, batch):
    """(text losses (T,), audio losses (T, K)) of a batch of one row: the loss of position t predicting the
    label of t + 1 (the model's shifted loss), 0 where that label is -100; and where a label counts."""
    inputs = {k: v for k, v in batch.items() if k not in ("labels", "audio_labels")}
    hidden = model.model(**inputs).last_hidden_state[0]  # (T, H)
    text_logits = model.text_lm_head(hidden)
    audio_logits = model.audio_lm_head(hidden).view(hidden.shape[0], K, -1)
    ids = batch["input_ids"][0]
    text_labels = torch.cat([batch["labels"][0, 1:], torch.tensor([IGNORE])])
    # The model's own placement of the audio labels: the mask's frames, in order, onto the placeholders.
    audio_labels = torch.full((ids.shape[0], K), IGNORE)
    if "audio_labels" in batch:
        placeholders = (ids == model.config.audio_token_id) | (ids == model.config.audio_delay_token_id)
        audio_labels[placeholders] = batch["audio_labels"][batch["audio_input_ids_mask"]]
    audio_labels = torch.cat([audio_labels[1:], torch.full((1, K), IGNORE)])
    ce = torch.nn.functional.cross_entropy
    text = ce(text_logits, text_labels, ignore_index=IGNORE, reduction="none")
    audio = ce(audio_logits.transpose(1, 2), audio_labels, ignore_index=IGNORE, reduction="none")
    return text, audio, text_labels != IGNORE, audio_labels != IGNORE


def grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("label_mode", ["processor", "correct"])
@pytest.mark.parametrize("block_mask", [False, True], ids=["position_ids", "float_block_mask"])
@pytest.mark.parametrize("seed", range(3))
def test_packed_trains_like_one_by_one(attn, label_mode, block_mask, seed):
    model = tiny_model(attn)
    features = random_pack(seed, label_mode)
    packed = fastcollate.HiggsAudioV2Collator(
        128001,
        label_mode=label_mode,
        num_codebooks=K,
        packed=True,
        block_mask_dtype=torch.float32 if block_mask else None,
        on_empty="keep",
    )(features)
    alone = fastcollate.HiggsAudioV2Collator(128001, label_mode=label_mode, num_codebooks=K, on_empty="keep")
    assert ("attention_mask" in packed) == block_mask  # never a 2-D mask
    assert "position_ids" in packed and packed["input_ids"].shape[0] == 1

    text, audio, text_counts, audio_counts = per_token_losses(model, packed)
    packed_grads = grads(model, text.sum() + audio.sum())
    ones = [per_token_losses(model, alone([f])) for f in features]
    # Where a label counts: the same positions (a misplaced frame or boundary label would show here first).
    assert torch.equal(text_counts, torch.cat([o[2] for o in ones]))
    assert torch.equal(audio_counts, torch.cat([o[3] for o in ones]))
    torch.testing.assert_close(text, torch.cat([o[0] for o in ones]), **TOL)
    torch.testing.assert_close(audio, torch.cat([o[1] for o in ones]), **TOL)
    assert text_counts.any()

    one_by_one = {}
    for f in features:
        t, a, _, _ = per_token_losses(model, alone([f]))
        for name, g in grads(model, t.sum() + a.sum()).items():
            one_by_one[name] = one_by_one[name] + g if name in one_by_one else g
    assert packed_grads.keys() == one_by_one.keys()
    for name in packed_grads:
        torch.testing.assert_close(packed_grads[name], one_by_one[name], **TOL, msg=name)


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("label_mode", ["processor", "correct"])
@pytest.mark.parametrize("seed", range(3))
def test_the_models_own_summed_loss_and_gradients(attn, label_mode, seed):
    """The model's loss (text + every codebook, summed over tokens: num_items_in_batch=1) of the packed batch
    is the sum of the features' losses, and so are its gradients."""
    model = tiny_model(attn)
    features = random_pack(100 + seed, label_mode)
    options = dict(label_mode=label_mode, num_codebooks=K, on_empty="keep")
    packed = fastcollate.HiggsAudioV2Collator(128001, packed=True, **options)(features)
    alone = fastcollate.HiggsAudioV2Collator(128001, **options)
    loss = model(**packed, num_items_in_batch=1).loss
    packed_grads = grads(model, loss)
    total, summed = 0.0, {}
    for f in features:
        one = model(**alone([f]), num_items_in_batch=1).loss
        total = total + one.item()
        for name, g in grads(model, one).items():
            summed[name] = summed[name] + g if name in summed else g
    torch.testing.assert_close(loss.item(), total, **TOL)
    for name in packed_grads:
        torch.testing.assert_close(packed_grads[name], summed[name], **TOL, msg=name)


def _wrong_forms(packed):
    t = packed["input_ids"].shape[1]
    varlen = {k: v for k, v in packed.items() if not k.startswith(("cu_seq_lens", "max_length"))}
    no_positions = {k: v for k, v in packed.items() if k != "position_ids"}
    allowed = block_causal_mask(packed["cu_seq_lens_q"], torch.float32) == 0
    return {
        "2-D mask beside position_ids": (("eager", "sdpa"), {**varlen, "attention_mask": torch.ones((1, t))}),
        "bool 4-D mask": (("eager",), {**varlen, "attention_mask": allowed}),
        "cu_seq_lens without position_ids": (("eager", "sdpa"), no_positions),
    }


@pytest.mark.parametrize("form", ["2-D mask beside position_ids", "bool 4-D mask", "cu_seq_lens without position_ids"])
def test_the_forms_the_collator_never_produces_train_the_wrong_thing(form):
    """Evidence for the packed layout: each of these runs without an error and gives other losses than the
    features one by one (the packed features attend to each other)."""
    features = random_pack(3, "processor")
    while len(features) < 2 or len(features[0]["input_ids"]) < 3:
        features = features + random_pack(len(features) + 50, "processor")
    options = dict(label_mode="processor", num_codebooks=K, on_empty="keep")
    packed = fastcollate.HiggsAudioV2Collator(128001, packed=True, **options)(features)
    alone = fastcollate.HiggsAudioV2Collator(128001, **options)
    attns, batch = _wrong_forms(packed)[form]
    for attn in attns:
        model = tiny_model(attn)
        with torch.no_grad():
            text = per_token_losses(model, batch)[0]
            want = torch.cat([per_token_losses(model, alone([f]))[0] for f in features])
        assert not torch.allclose(text, want, atol=1e-3), attn
