"""Packed batches in a real model: the flash-attention varlen keys transformers reads, and the block-diagonal mask
that keeps packed samples apart on eager and sdpa attention (a tiny random Llama on the CPU, no download).

Without the mask, eager and sdpa attend across sample boundaries: the test shows that leak, which is what the
README warns about.
"""

import random

import pytest
import torch
import torch.nn.functional as F
from conftest import backends
from tiny_llama import tiny_llama, transformers

from fastcollate import ChatCollator, presets
from fastcollate.rolespan.packed import block_causal_mask
from fastcollate.synthetic import IGNORE, synthetic_text_batch

PAD = 128001
LENGTHS = (30, 47, 64, 41)


def features(lengths=LENGTHS, seed=0):
    return [
        {"input_ids": synthetic_text_batch(1, n, seed=seed + k, exchanges=1)[0].input_ids.tolist()}
        for k, n in enumerate(lengths)
    ]


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.bfloat16])
def test_packed_keys_and_dtypes(backend, dtype):
    batch = ChatCollator(presets.llama3(), PAD, packed=True, backend=backend, block_mask_dtype=dtype)(features())
    total = sum(LENGTHS)
    want = {"input_ids", "labels", "position_ids", "cu_seq_lens_q", "cu_seq_lens_k", "max_length_q", "max_length_k"}
    assert set(batch) == want | ({"attention_mask"} if dtype else set())
    for key in ("input_ids", "labels", "position_ids"):
        assert batch[key].dtype == torch.int64 and batch[key].shape == (1, total)
    for key in ("cu_seq_lens_q", "cu_seq_lens_k"):
        assert batch[key].dtype == torch.int32 and batch[key].tolist() == [0, 30, 77, 141, 182]
    assert batch["max_length_q"] == batch["max_length_k"] == 64 and type(batch["max_length_q"]) is int
    if dtype:
        mask = batch["attention_mask"]
        assert mask.dtype == dtype and mask.shape == (1, 1, total, total)


@pytest.mark.parametrize("dtype", [None, torch.float16])
def test_backends_bit_equal_on_every_packed_output(dtype):
    if "cpu" not in backends():
        pytest.skip("compiled extension not built")
    rng = random.Random(3)
    for _ in range(20):
        lengths = [rng.choice([19, 20, 33, 50]) for _ in range(rng.randint(1, 6))]
        feats = features(lengths, seed=rng.randrange(1000))
        ref = ChatCollator(presets.llama3(), PAD, packed=True, backend="python", block_mask_dtype=dtype)(feats)
        got = ChatCollator(presets.llama3(), PAD, packed=True, backend="cpu", block_mask_dtype=dtype)(feats)
        assert ref.keys() == got.keys()
        for k, v in ref.items():
            assert (torch.equal(v, got[k]) and v.dtype == got[k].dtype) if torch.is_tensor(v) else v == got[k], k


def test_matches_what_transformers_derives_and_flattens():
    """transformers 4.46's flash-attention path derives cu_seqlens from position_ids
    (prepare_fa2_from_position_ids); its DataCollatorWithFlattening lays out ids, labels and positions. Ours agree."""
    from transformers.modeling_flash_attention_utils import prepare_fa2_from_position_ids

    feats = features()
    batch = ChatCollator(presets.llama3(), PAD, packed=True)(feats)
    total = batch["input_ids"].shape[1]
    qkv = torch.zeros(1, total, 1, 1)
    *_, (cu_q, cu_k), (max_q, max_k) = prepare_fa2_from_position_ids(qkv, qkv, qkv, batch["position_ids"])
    assert torch.equal(batch["cu_seq_lens_q"], cu_q) and torch.equal(batch["cu_seq_lens_k"], cu_k)
    assert batch["max_length_q"] == int(max_q) == int(max_k)

    padded = ChatCollator(presets.llama3(), PAD)(feats)
    labeled = [
        {"input_ids": f["input_ids"], "labels": padded["labels"][i][: len(f["input_ids"])].tolist()}
        for i, f in enumerate(feats)
    ]
    with pytest.warns(UserWarning, match="flatten the entire mini batch"):
        hf = transformers.DataCollatorWithFlattening()(labeled)
    for key in ("input_ids", "labels", "position_ids"):
        assert torch.equal(hf[key], batch[key]), key


def test_block_causal_mask_is_its_definition():
    """mask[i, j] == 0 exactly when i and j are in the same sample and j <= i; finfo.min everywhere else."""
    rng = random.Random(0)
    for _ in range(30):
        lengths = [rng.choice([0, 1, 2, 5, 9]) for _ in range(rng.randint(1, 5))]
        cu = torch.tensor([0] + lengths, dtype=torch.int32).cumsum(0, dtype=torch.int32)
        dtype = rng.choice([torch.float32, torch.bfloat16, torch.float64])
        mask = block_causal_mask(cu, dtype)
        sample = [k for k, n in enumerate(lengths) for _ in range(n)]
        total = len(sample)
        want = torch.full((total, total), torch.finfo(dtype).min, dtype=dtype)
        for i in range(total):
            for j in range(total):
                if sample[i] == sample[j] and j <= i:
                    want[i, j] = 0
        assert mask.shape == (1, 1, total, total) and mask.dtype == dtype
        assert torch.equal(mask[0, 0], want), lengths


def summed_loss(model, batch) -> torch.Tensor:
    """Sum of the token losses of one row (labels shifted as the model's own loss shifts them)."""
    logits = model(**batch).logits
    return F.cross_entropy(logits[0, :-1].double(), batch["labels"][0, 1:], ignore_index=IGNORE, reduction="sum")


def per_sample_loss_sum(model, feats) -> torch.Tensor:
    collate = ChatCollator(presets.llama3(), PAD)
    return sum(summed_loss(model, collate([f])) for f in feats)


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("backend", backends())
def test_block_mask_packed_loss_equals_per_sample_losses(attn, backend):
    """float64 model and mask, so rounding cannot hide or fake a leak (about 5e-2 here, 1e-4 of the loss: a
    random tiny model attends almost uniformly, so the leak is small). sdpa is float64 throughout; eager takes
    its softmax in float32, so it is held to float32 rounding (1e-6 of the loss), still a hundredth of the leak."""
    model = tiny_llama(attn).double().eval()
    feats = features()
    with torch.no_grad():
        alone = per_sample_loss_sum(model, feats)
        masked = ChatCollator(presets.llama3(), PAD, packed=True, backend=backend, block_mask_dtype=torch.float64)
        packed = summed_loss(model, masked(feats))
        leaky = summed_loss(model, ChatCollator(presets.llama3(), PAD, packed=True, backend=backend)(feats))
    rtol = 1e-10 if attn == "sdpa" else 1e-6
    assert abs(float(packed - alone)) < rtol * abs(float(alone)), (float(packed), float(alone))
    # Without the mask the row is one causal sequence: samples 1..3 see the samples before them.
    assert abs(float(leaky - alone)) > 1e-3, (float(leaky), float(alone))


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_block_mask_packed_gradients_equal_per_sample_gradients(attn):
    """The packed row's summed loss has the gradients of the samples' summed losses run one by one (float64).

    sdpa is float64 throughout, so the gradients agree to float64 rounding. Llama's eager attention takes its
    softmax in float32 (``softmax(..., dtype=torch.float32)``) whatever the model's dtype, and how that float32
    reduction is split depends on the row's length and the thread count (one thread puts 4e-9 on the embedding's
    gradient), so eager is held to float32 rounding. Either bound is far below the leak without the mask
    (above 0.2 on some weight), which the test also checks."""
    model = tiny_llama(attn).double()
    feats = features()

    def grads(loss):
        model.zero_grad()
        loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    packed = grads(
        summed_loss(model, ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=torch.float64)(feats))
    )
    alone = grads(per_sample_loss_sum(model, feats))
    leaky = grads(summed_loss(model, ChatCollator(presets.llama3(), PAD, packed=True)(feats)))
    rtol, atol = (1e-9, 1e-12) if attn == "sdpa" else (1e-6, 1e-7)
    assert packed.keys() == alone.keys() and packed
    for name in packed:
        torch.testing.assert_close(packed[name], alone[name], rtol=rtol, atol=atol, msg=name)
    assert max(float((leaky[n] - alone[n]).abs().max()) for n in alone) > 1e-2


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_without_the_mask_a_sample_sees_the_one_before_it(attn):
    """Change only sample 0's tokens: with the block mask sample 1's logits stay the same, without it they move."""
    model = tiny_llama(attn).eval()
    feats = features(LENGTHS[:2])
    other = [{"input_ids": feats[0]["input_ids"][:1] + [v + 1 for v in feats[0]["input_ids"][1:]]}, feats[1]]
    second = slice(LENGTHS[0], sum(LENGTHS[:2]))
    for dtype, moves in ((torch.float32, False), (None, True)):
        collate = ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=dtype, on_empty="keep")
        with torch.no_grad():
            a = model(**collate(feats)).logits[0, second]
            b = model(**collate(other)).logits[0, second]
        assert torch.equal(a, b) is not moves, dtype
        assert torch.allclose(a, b, atol=1e-6) is not moves, dtype


def test_bfloat16_model_with_bfloat16_mask():
    """sdpa needs the mask in the dtype attention runs in: block_mask_dtype=model.dtype."""
    model = tiny_llama("sdpa").to(torch.bfloat16).eval()
    batch = ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=model.dtype)(features())
    with torch.no_grad():
        loss = model(**batch).loss
    assert torch.isfinite(loss)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            dict(block_mask_dtype=torch.float32),
            r"^block_mask_dtype: only packed batches get a block-diagonal mask "
            r"\(a padded batch's attention_mask already keeps samples apart\); "
            r"pass packed=True or leave it None$",
        ),
        (
            dict(packed=True, block_mask_dtype=torch.int64),
            r"^block_mask_dtype: expected a floating torch.dtype \(the "
            r"dtype attention runs in, e.g. torch.bfloat16\) or None, got "
            r"torch.int64$",
        ),
        (
            dict(packed=True, block_mask_dtype="float32"),
            r"block_mask_dtype: expected a floating torch.dtype .* got "
            r"'float32'$",
        ),
    ],
)
def test_block_mask_dtype_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChatCollator(presets.llama3(), PAD, **kwargs)
