"""start_index is never ignored: under the default specs it means what prepare_chatml_sample means (turns with
index >= start_index are learned), on every backend and entry point; where a spec or collator would not read
it, a given start_index is a ValueError naming the sample, the field and the fix."""

import random

import pytest
import torch
from chatml_chats import higgs_sample, prepared, random_chat
from conftest import backends
from higgs_samples import KW, assert_batches_equal

import fastcollate
from fastcollate import ChatCollator, HiggsAudioSampleCollator, explain, presets
from fastcollate.synthetic import IGNORE

SEEDS = range(12)
HIGGS = dict(whisper_processor=None, **KW, encode_whisper_embed=False, use_delay_pattern=True)


def chats_with_start_index(seed, n=6):
    rng = random.Random(seed)
    chats = [random_chat(rng) for _ in range(n)]
    chats[0].start_index = 2  # at least one sample with a start_index that masks a learned turn
    return chats


def trains_something(labels) -> bool:
    return any(v != IGNORE for v in labels[1:])


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_chat_collator_default_preset_equals_prepare_chatml_sample(backend, packed, seed):
    chats = [c for c in chats_with_start_index(seed) if trains_something(prepared(c)[1])]
    features = [{"input_ids": prepared(c)[0], "start_index": c.start_index} for c in chats]
    batch = ChatCollator(presets.llama3(), pad_token_id=128001, packed=packed, backend=backend)(features)
    if packed:
        rows = [batch["labels"][0, a:b] for a, b in zip(batch["cu_seq_lens_q"][:-1], batch["cu_seq_lens_q"][1:])]
    else:
        rows = [batch["labels"][i][batch["attention_mask"][i].bool()] for i in range(len(chats))]
    for row, chat in zip(rows, chats):
        assert row.tolist() == prepared(chat)[1]


def test_the_issue_reproducer_learns_less_with_start_index():
    """Filed: 30 learned tokens with and without start_index=4 under presets.llama3(); 15 was right."""
    rng = random.Random(5)
    chat = random_chat(rng, start_choices=[4])
    with_start = ChatCollator(presets.llama3(), 128001, return_num_learned=True)(
        [{"input_ids": prepared(chat)[0], "start_index": 4}]
    )
    without = ChatCollator(presets.llama3(), 128001, return_num_learned=True, on_empty="keep")(
        [{"input_ids": prepared(chat)[0]}]
    )
    assert with_start["labels"][0].tolist() == prepared(chat)[1]
    assert with_start["num_learned"].item() < without["num_learned"].item()


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("seed", SEEDS)
def test_higgs_label_spec_default_equals_prepare_chatml_sample(backend, seed):
    """label_spec=presets.llama3() with each sample's start_index gives the batch that the labels of
    prepare_chatml_sample give, bit for bit (text labels, audio labels, no-train audio segments)."""
    chats = chats_with_start_index(seed)
    # Seeded per sample, so both forms of sample i get the same codes.
    derived = [
        higgs_sample(c, random.Random(seed * 100 + i), labels=False, start_index=True) for i, c in enumerate(chats)
    ]
    given = [
        higgs_sample(c, random.Random(seed * 100 + i), labels=True, start_index=False) for i, c in enumerate(chats)
    ]
    want = HiggsAudioSampleCollator(**HIGGS, backend=backend, on_empty="keep")(given)
    got = HiggsAudioSampleCollator(**HIGGS, label_spec=presets.llama3(), backend=backend, on_empty="keep")(derived)
    assert_batches_equal(got, want)


@pytest.mark.parametrize("seed", SEEDS)
def test_explain_default_preset_equals_prepare_chatml_sample(seed):
    for chat in chats_with_start_index(seed):
        ids, labels = prepared(chat)
        text = explain({"input_ids": ids, "start_index": chat.start_index, "labels": labels}, presets.llama3())
        assert "labels: identical to the spec's labels" in text


# ------------------------------------------------------------------------------------------------ conflicts

NOT_READ = (
    r"sample 1: start_index: is 2, but the spec selects turns='{}', which does not read start_index; use "
    r"the default turns='from_start_index' to learn only the turns from start_index on, or drop start_index"
)
COMPLETION = r"sample 1: start_index: is 2, but completion-only templates cannot count chat turns"


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(
    "spec, message",
    [
        (presets.llama3(turns="all"), NOT_READ.format("all")),
        (presets.llama3(turns="last"), NOT_READ.format("last")),
        (presets.chatml(turns="all"), NOT_READ.format("all")),
        (presets.completion_only([128006, 78191, 128007, 271], turns="all"), COMPLETION),
        (presets.completion_only([128006, 78191, 128007, 271]), COMPLETION),
    ],
)
def test_start_index_under_a_spec_that_does_not_read_it_raises(backend, spec, message):
    chat = random_chat(random.Random(1))
    ids = prepared(chat)[0]
    features = [{"input_ids": ids}, {"input_ids": ids, "start_index": 2}]
    with pytest.raises(ValueError, match=message):
        ChatCollator(spec, 128001, backend=backend)(features)
    # A start_index of None is no start_index: fine under any spec.
    ChatCollator(spec, 128001, backend=backend, on_empty="keep")([{"input_ids": ids, "start_index": None}])
    sample = higgs_sample(chat, random.Random(2), labels=False, start_index=False)
    other = higgs_sample(chat, random.Random(2), labels=False, start_index=False)
    other.start_index = 2
    with pytest.raises(ValueError, match=message):
        HiggsAudioSampleCollator(**HIGGS, label_spec=spec, backend=backend)([sample, other])
    with pytest.raises(ValueError, match=message.replace("sample 1: ", "^")):
        explain(ids, spec, start_index=2)


@pytest.mark.parametrize("backend", backends())
def test_higgs_start_index_without_label_spec_raises(backend):
    chat = random_chat(random.Random(3))
    samples = [higgs_sample(chat, random.Random(4), labels=True, start_index=False) for _ in range(2)]
    samples[1].start_index = 2
    with pytest.raises(
        ValueError,
        match=r"^sample 1: start_index: is 2, but label_spec is None, so labels are read "
        r"from label_ids and start_index is not used; pass label_spec="
        r"fastcollate.presets.llama3\(\) to derive labels",
    ):
        HiggsAudioSampleCollator(**HIGGS, backend=backend)(samples)


@pytest.mark.parametrize("backend", backends())
def test_start_index_errors_come_in_sample_order(backend):
    """The compiled path reports the first bad sample, as the reference does."""
    chat = random_chat(random.Random(3))
    samples = [higgs_sample(chat, random.Random(4), labels=True, start_index=False) for _ in range(3)]
    samples[1].start_index = "x"
    samples[2].start_index = 5
    with pytest.raises(ValueError, match=r"^sample 1: start_index: expected an int or None, got str$"):
        HiggsAudioSampleCollator(**HIGGS, backend=backend)(samples)


def test_specs_default_to_reading_start_index():
    assert (
        fastcollate.RoleSpanSpec(turn_start=(1,), header_end=(2,), roles={"assistant": (3,)}).turns
        == "from_start_index"
    )
    for spec in (presets.llama3(), presets.chatml(), presets.completion_only([5])):
        assert spec.turns == "from_start_index"
    assert presets.llama3().unread_start_index_reason() is None
    assert presets.completion_only([5]).unread_start_index_reason() is not None


def test_no_start_index_means_every_turn_as_before():
    """Data without start_index is labeled as before the default changed: every assistant turn."""
    for chat in chats_with_start_index(7):
        ids = prepared(chat)[0]
        default = ChatCollator(presets.llama3(), 0, on_empty="keep")([ids])["labels"]
        everything = ChatCollator(presets.llama3(turns="all"), 0, on_empty="keep")([ids])["labels"]
        assert torch.equal(default, everything)
