"""The llama3 preset reproduces the labels of boson-multimodal's prepare_chatml_sample from input_ids alone
(the real function, on the chats of tests/chatml_chats.py)."""

import random

import pytest
import torch
from chatml_chats import ChatMLSample, Message, StandInTokenizer, chatml_dataset, random_chat
from fastcollate.presets import llama3

from fastcollate.rolespan.native import collate_text_native
from fastcollate.rolespan.reference import mask_labels_reference
from fastcollate.synthetic import IGNORE, LLAMA3_IDS, _Builder, synthetic_text_batch

t = LLAMA3_IDS


@pytest.mark.parametrize("seed", range(40))
def test_llama3_preset_reproduces_prepare_chatml_sample(seed):
    sample = random_chat(random.Random(seed))
    ids, labels, _, _ = chatml_dataset.prepare_chatml_sample(sample, StandInTokenizer())
    spec = llama3()
    expected = torch.tensor(labels, dtype=torch.int64)
    assert torch.equal(mask_labels_reference(ids, spec, sample.start_index), expected)
    out = collate_text_native([torch.tensor(ids)], spec, 0, start_indices=[sample.start_index])
    assert torch.equal(out["labels"][0], expected)
    if any(
        m.role == "assistant" and i + 1 < len(sample.messages) and sample.messages[i + 1].role == "assistant"
        for i, m in enumerate(sample.messages)
    ):
        assert t.eom in ids


def test_recipient_prefix_is_not_reproducible_from_ids():
    """prepare_chatml_sample labels an assistant `recipient` prefix even before start_index; the rules here
    cannot (nothing in the ids says the turn is before start_index but its prefix should be learned), so the
    spec masks it like the rest of the turn. Documented difference, pinned here."""
    sample = ChatMLSample(
        messages=[Message("user", "w1 w2"), Message("assistant", "w3 w4", recipient="w9")], start_index=2
    )
    ids, labels, _, _ = chatml_dataset.prepare_chatml_sample(sample, StandInTokenizer())
    got = mask_labels_reference(ids, llama3(), 2)
    differ = (got != torch.tensor(labels)).nonzero().flatten().tolist()
    assert [ids[i] for i in differ] == [1009, 128020]  # "w9<|recipient|>": learned upstream, masked here
    # From start_index on, the prefix is just content of a learned turn: identical.
    ids, labels, _, _ = chatml_dataset.prepare_chatml_sample(
        ChatMLSample(messages=sample.messages, start_index=1), StandInTokenizer()
    )
    assert torch.equal(mask_labels_reference(ids, llama3(), 1), torch.tensor(labels))


def test_llama3_preset_reproduces_synthetic_builder():
    for s in synthetic_text_batch(6, 300, seed=11):
        assert torch.equal(mask_labels_reference(s.input_ids, llama3()), s.label_ids)


def test_builder_start_index_and_eom_between_assistant_turns():
    b = _Builder()
    b.turn(t.system, [[5, 6]], learned=False, first=True)  # turn 0
    b.turn(t.user, [[7]], learned=False)  # turn 1
    b.turn(t.assistant, [[8, 9]], learned=False)  # turn 2: before start_index
    b.turn(t.user, [[10]], learned=False)  # turn 3
    b.add([t.start_header, t.assistant, t.end_header, t.double_newline], False)  # turn 4, ends with eom
    b.add([11, 12, t.eom], True)
    b.turn(t.assistant, [[13]], learned=True)  # turn 5
    got = collate_text_native([torch.tensor(b.ids)], llama3(), 0, start_indices=[4])
    assert torch.equal(got["labels"][0], torch.tensor(b.labels))
    assert got["num_learned"].item() == sum(v != IGNORE for v in b.labels) == 5
    last = collate_text_native([torch.tensor(b.ids)], llama3(turns="last"), 0)
    assert last["labels"][0].ne(IGNORE).nonzero().flatten().tolist() == [len(b.ids) - 2, len(b.ids) - 1]


def test_synthetic_text_batch_has_exactly_seq_len_tokens():
    for seq_len, exchanges in [(18, 1), (40, 1), (97, 3), (2048, 3)]:
        assert {len(s.input_ids) for s in synthetic_text_batch(3, seq_len, exchanges=exchanges)} == {seq_len}
    with pytest.raises(ValueError, match=r"^seq_len: 17 is too short for 1 exchanges \(at least 18\)$"):
        synthetic_text_batch(1, 17, exchanges=1)
