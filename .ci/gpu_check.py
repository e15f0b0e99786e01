"""Run by .ci/gpu_check.sh on a machine with a GPU and whatever transformers it has (CI has no GPU and pins 4.46):
packed batches against that transformers' DataCollatorWithFlattening(return_flash_attn_kwargs=True) where it has
the option, the block mask on eager and sdpa on CPU and CUDA, bf16 sdpa on CUDA, pinned DataLoader workers."""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
import transformers
from torch.utils.data import DataLoader

from fastcollate import ChatCollator, presets
from fastcollate.synthetic import synthetic_text_batch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tiny_llama import tiny_llama  # noqa: E402  (the tests' tiny Llama: one definition)

print("transformers", transformers.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())
PAD = 128001
feats = [
    {"input_ids": synthetic_text_batch(1, n, seed=k, exchanges=1)[0].input_ids.tolist()}
    for k, n in enumerate((30, 47, 64, 41))
]
packed = ChatCollator(presets.llama3(), PAD, packed=True)(feats)
padded = ChatCollator(presets.llama3(), PAD)(feats)
labeled = [
    {"input_ids": f["input_ids"], "labels": padded["labels"][i][: len(f["input_ids"])].tolist()}
    for i, f in enumerate(feats)
]
try:
    hf = transformers.DataCollatorWithFlattening(return_flash_attn_kwargs=True)(labeled)
    print("HF keys:", sorted(hf), "ours:", sorted(packed))
    for k, v in hf.items():
        if k not in packed:  # e.g. seq_idx, which ChatCollator does not return
            print(f"  {k}: only in transformers' batch")
            continue
        ours = packed[k]
        same = (torch.is_tensor(v) and torch.is_tensor(ours) and v.dtype == ours.dtype and torch.equal(v, ours)) or (
            not torch.is_tensor(v) and v == ours
        )
        print(
            f"  {k}: hf {getattr(v, 'dtype', type(v).__name__)} {tuple(getattr(v, 'shape', ()))} "
            f"ours {getattr(ours, 'dtype', type(ours).__name__)} equal={same}"
        )
        assert same, k
except TypeError as exc:  # a transformers without the option (4.46)
    print("DataCollatorWithFlattening:", repr(exc))


def summed(model, batch):
    logits = model(**batch).logits
    return F.cross_entropy(logits[0, :-1].double(), batch["labels"][0, 1:].to(logits.device), reduction="sum")


for attn in ("eager", "sdpa"):
    for device in ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]:
        model = tiny_llama(attn).double().to(device).eval()

        def mv(b, device=device):
            return {k: v.to(device) if torch.is_tensor(v) else v for k, v in b.items()}

        with torch.no_grad():
            alone = sum(summed(model, mv(ChatCollator(presets.llama3(), PAD)([f]))) for f in feats)
            masked = summed(
                model, mv(ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=torch.float64)(feats))
            )
            plain = summed(model, mv(packed))
        # Newer transformers may find packed samples from position_ids by themselves: the leak is shown, not asserted.
        print(
            f"{attn} {device}: |masked-alone| {abs(float(masked - alone)):.3g}  "
            f"|no-mask-alone| {abs(float(plain - alone)):.3g}"
        )
        assert abs(float(masked - alone)) < 1e-10 * abs(float(alone))

if not torch.cuda.is_available():
    sys.exit(0)
model = tiny_llama("sdpa").to(torch.bfloat16).cuda().eval()
b = ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=torch.bfloat16)(feats)
with torch.no_grad():
    loss = float(model(**{k: v.cuda() if torch.is_tensor(v) else v for k, v in b.items()}).loss)
print("bf16 sdpa cuda loss", loss)
assert loss == loss and abs(loss) < float("inf")

loader = DataLoader(
    feats * 4,
    batch_size=4,
    num_workers=2,
    pin_memory=True,
    collate_fn=ChatCollator(presets.llama3(), PAD, packed=True, block_mask_dtype=torch.bfloat16),
)
first = next(iter(loader))
print(
    "pinned:",
    {k: v.is_pinned() for k, v in first.items() if torch.is_tensor(v)},
    "ints:",
    {k: v for k, v in first.items() if not torch.is_tensor(v)},
)
assert all(v.is_pinned() for v in first.values() if torch.is_tensor(v))
print("gpu check: OK")
