"""ChatCollator from every input form users pass, and peers on the same rows, in one group.

32 Llama-3 chats x 2048 tokens, 3 exchanges, completion-only labels (TRL's DataCollatorForCompletionOnlyLM
semantics; TRL itself needs a newer transformers than the test venv's and runs in its own venv:
benchmarks/peers/run_trl.sh). Peers from transformers 4.46 in this venv: DataCollatorForSeq2Seq (pads
precomputed labels; computes none) and DataCollatorWithFlattening (packs; labels = input_ids). Every
benchmark asserts its result against the tensor-form batch.
"""

import pytest
import torch

from fastcollate import ChatCollator, presets
from fastcollate.synthetic import LLAMA3_IDS as t
from fastcollate.synthetic import synthetic_text_batch

GROUP = "inputs-32x2048"
RESPONSE = [t.start_header, t.assistant, t.end_header, t.double_newline]
INSTRUCTION = [t.start_header, t.user, t.end_header, t.double_newline]
SPEC = presets.completion_only(RESPONSE, INSTRUCTION)
_CACHE = {}


def rows():
    if "rows" not in _CACHE:
        _CACHE["rows"] = [s.input_ids for s in synthetic_text_batch(32, 2048, seed=0, exchanges=3)]
    return _CACHE["rows"]


def expected(packed=False):
    key = ("want", packed)
    if key not in _CACHE:
        _CACHE[key] = ChatCollator(SPEC, t.pad, packed=packed, backend="cpu")(list(rows()))
    return _CACHE[key]


def tokens():
    return sum(len(r) for r in rows())


def check(got, want, keys=("input_ids", "labels", "attention_mask")):
    for k in keys:
        assert torch.equal(got[k], want[k]), k


FORMS = {
    "tensors": lambda: [{"input_ids": r} for r in rows()],
    "numpy": lambda: [{"input_ids": r.numpy()} for r in rows()],
    "lists": lambda: [{"input_ids": r.tolist()} for r in rows()],
}


@pytest.mark.parametrize("form", list(FORMS))
def test_chat_collator(record, form):
    features = FORMS[form]()
    collate = ChatCollator(SPEC, t.pad, backend="cpu")
    check(record(GROUP, f"fastcollate_{form}", lambda: collate(features), items=tokens()), expected())


def test_chat_collator_arrow(record):
    pa = pytest.importorskip("pyarrow")
    column = pa.array([r.tolist() for r in rows()])
    collate = ChatCollator(SPEC, t.pad, backend="cpu")
    check(record(GROUP, "fastcollate_arrow", lambda: collate(column), items=tokens()), expected())


def test_chat_collator_python_lists(record):
    """The pure-Python fallback on the same lists (the spec, slow on purpose)."""
    features = FORMS["lists"]()
    collate = ChatCollator(SPEC, t.pad, backend="python")
    got = record(
        GROUP, "fastcollate_python_lists", lambda: collate(features), setup=lambda: ((), {}), rounds=3, items=tokens()
    )
    check(got, expected())


def test_hf_seq2seq_lists(record):
    """transformers' DataCollatorForSeq2Seq on lists whose labels are already computed: padding only."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizers.Tokenizer(tokenizers.models.WordLevel({"<pad>": t.pad}, unk_token="<pad>")),
        pad_token="<pad>",
    )
    want = expected()
    features = [{"input_ids": r.tolist(), "labels": want["labels"][i][: len(r)].tolist()} for i, r in enumerate(rows())]
    collate = transformers.DataCollatorForSeq2Seq(tok, padding="longest", return_tensors="pt")
    got = record(GROUP, "hf_seq2seq_lists", lambda: collate(features), items=tokens())
    check(got, want)


def test_hf_flattening_lists(record):
    """transformers' DataCollatorWithFlattening on lists: packs; labels are input_ids (no masking)."""
    transformers = pytest.importorskip("transformers")
    features = FORMS["lists"]()
    collate = transformers.DataCollatorWithFlattening()
    got = record(GROUP, "hf_flattening_lists", lambda: collate(features), items=tokens())
    assert torch.equal(got["input_ids"][0], expected(packed=True)["input_ids"][0])
    assert torch.equal(got["position_ids"][0], expected(packed=True)["position_ids"][0])
