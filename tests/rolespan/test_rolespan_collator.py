"""ChatCollator, presets, label_stats and explain: layouts, pad == eos, every error message, on_empty."""

import numpy as np
import pytest
import torch
from fastcollate.presets import chatml, llama3

from fastcollate import EmptySampleWarning
from fastcollate.diagnostics.explain import explain
from fastcollate.diagnostics.label_stats import label_stats
from fastcollate.rolespan.chat_collator import ChatCollator
from fastcollate.rolespan.native import collate_text_flat_native, collate_text_native
from fastcollate.rolespan.spec import RoleSpanSpec, completion_only
from fastcollate.runtime.backend import core
from fastcollate.synthetic import IGNORE, _Builder, synthetic_text_batch
from fastcollate.synthetic import LLAMA3_IDS as t

BACKENDS = ["python", "cpu"]


def chat(assistant_turns=1, start=None, truncate=None):
    b = _Builder()
    b.turn(t.system, [[5, 6]], learned=False, first=True)
    for k in range(assistant_turns):
        b.turn(t.user, [[7, 8]], learned=False)
        b.turn(t.assistant, [[9 + k, 10]], learned=True)
    ids = b.ids[:truncate] if truncate else b.ids
    return {"input_ids": ids} if start is None else {"input_ids": ids, "start_index": start}


@pytest.mark.parametrize("backend", BACKENDS)
def test_packed_and_padded_learn_the_same_tokens(backend):
    rows = [s.input_ids for s in synthetic_text_batch(5, 97, seed=2)] + [torch.tensor(chat(2)["input_ids"])]
    spec = llama3()
    padded = ChatCollator(spec, t.pad, pad_left=True, pad_to_multiple_of=16, backend=backend, return_num_learned=True)(
        rows
    )
    packed = ChatCollator(spec, t.pad, packed=True, backend=backend, return_num_learned=True)(rows)
    learned_padded = padded["labels"][padded["attention_mask"].bool()]
    assert torch.equal(learned_padded, packed["labels"][0])
    assert torch.equal(padded["num_learned"], packed["num_learned"])
    cu = packed["cu_seq_lens_q"].tolist()
    assert packed["cu_seq_lens_q"].dtype == torch.int32 and cu[-1] == packed["input_ids"].shape[1]
    assert packed["max_length_q"] == max(b - a for a, b in zip(cu, cu[1:]))
    assert all(packed["position_ids"][0, a] == 0 for a in cu[:-1])
    assert padded["input_ids"].shape[1] % 16 == 0 and padded["input_ids"][0, 0] == t.pad  # left padding


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pad_left", [False, True])
def test_pad_equal_to_eos_keeps_the_learned_end_of_turn(backend, pad_left):
    short, long = chat(1), chat(2)
    out = ChatCollator(llama3(), pad_token_id=t.eot, pad_left=pad_left, backend=backend)([short, long])
    row = out["labels"][0][out["attention_mask"][0].bool()].tolist()
    assert row[-1] == t.eot  # the assistant's <|eot_id|> is learned although it equals the pad id
    assert out["labels"][0][~out["attention_mask"][0].bool()].eq(IGNORE).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_empty_error_names_sample_and_reason(backend):
    collate = ChatCollator(llama3(turns="from_start_index"), t.pad, backend=backend)
    cases = [
        (chat(0), "sample 1: labels: no learned token: no assistant turn found"),
        (chat(1, start=99), "sample 1: labels: no learned token: all learned turns are before start_index"),
        (chat(1, truncate=-3), "sample 1: labels: no learned token: learned turns were truncated away"),
        ({"input_ids": []}, "sample 1: labels: no learned token: input_ids is empty"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            collate([chat(1), bad])


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_empty_warn_drop_keep(backend):
    batch = [chat(1), chat(0), chat(2)]
    with pytest.warns(EmptySampleWarning, match=r"1 sample\(s\) with no learned token: sample 1: no assistant"):
        warned = ChatCollator(llama3(), t.pad, on_empty="warn", backend=backend)(batch)
    assert warned["input_ids"].shape[0] == 3
    dropped = ChatCollator(llama3(), t.pad, on_empty="drop", backend=backend, return_num_learned=True)(batch)
    kept = ChatCollator(llama3(), t.pad, backend=backend, return_num_learned=True)([batch[0], batch[2]])
    for k in kept:
        assert torch.equal(dropped[k], kept[k])
    keep = ChatCollator(llama3(), t.pad, on_empty="keep", backend=backend, return_num_learned=True)(batch)
    assert keep["num_learned"].tolist()[1] == 0 and "num_learned" not in warned
    with pytest.raises(ValueError, match=r"batch: every sample has no learned token \(on_empty='drop'\)"):
        ChatCollator(llama3(), t.pad, on_empty="drop", backend=backend)([chat(0)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_feature_forms_and_dtypes(backend):
    ids = chat(1)["input_ids"]
    collate = ChatCollator(llama3(), t.pad, backend=backend)
    ref = collate([ids])
    strided = torch.tensor([v for v in ids for _ in range(2)])[::2]  # non-contiguous
    for form in (
        torch.tensor(ids, dtype=torch.int32),
        np.array(ids, dtype=np.int64),
        {"input_ids": ids},
        strided,
        np.array(ids, dtype=np.int32)[::-1][::-1],
    ):
        got = collate([form])
        assert all(torch.equal(ref[k], got[k]) for k in ref)


ROW_ERRORS = [
    (torch.zeros(3), r"sample 0: input_ids: expected dtype torch.int32 or torch.int64, got torch.float32"),
    (torch.zeros(2, 3, dtype=torch.int64), r"sample 0: input_ids: expected a 1-D tensor, got shape \(2, 3\)"),
    (np.zeros(3), r"sample 0: input_ids: expected an integer dtype, got buffer format 'd'"),
    (np.zeros((2, 2), dtype=np.int64), r"sample 0: input_ids: expected a 1-D array, got 2 dimensions"),
    ("abc", r"sample 0: input_ids: expected a 1-D torch.Tensor, numpy array or list of ints, got str"),
    ([1, 2.5], r"^sample 0: input_ids: expected a list of ints, got float at position 1$"),
    ([1, True], r"^sample 0: input_ids: expected a list of ints, got bool at position 1$"),
    ([1, 2**64], r"^sample 0: input_ids: value 18446744073709551616 at position 1 does not fit in int64$"),
    ([-(2**63) - 1], r"^sample 0: input_ids: value -9223372036854775809 at position 0 does not fit in int64$"),
    (
        np.array([1, 2**64 - 1], dtype=np.uint64),
        r"^sample 0: input_ids: value 18446744073709551615 at position 1 does not fit in int64$",
    ),
    ({}, r"sample 0: input_ids: missing from the feature"),
    (
        {"ids": [1]},
        r"^sample 0: ids: is not a feature ChatCollator reads \(input_ids, start_index\): labels and "
        r"attention_mask are computed from input_ids; drop the key from the features or list it in "
        r"ignore_keys to skip it$",
    ),
    ({"input_ids": [1], "labels": [1]}, r"^sample 0: labels: is not a feature ChatCollator reads"),
    ({"input_ids": [1], "start_index": "2"}, r"sample 0: start_index: expected an int or None, got str"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("value,message", ROW_ERRORS)
def test_row_errors(backend, value, message):
    with pytest.raises(ValueError, match=message):
        ChatCollator(llama3(), t.pad, backend=backend)([value])


@pytest.mark.parametrize("backend", BACKENDS)
def test_ignore_keys(backend):
    ids = chat(1)["input_ids"]
    want = ChatCollator(llama3(), t.pad, backend=backend)([{"input_ids": ids}])
    got = ChatCollator(llama3(), t.pad, backend=backend, ignore_keys=("messages", "attention_mask"))(
        [{"input_ids": ids, "messages": "hi", "attention_mask": [1] * len(ids)}]
    )
    assert all(torch.equal(want[k], got[k]) for k in want)
    with pytest.raises(ValueError, match=r"^ignore_keys: expected a collection of key names, got the string 'ab'$"):
        ChatCollator(llama3(), t.pad, ignore_keys="ab")
    with pytest.raises(ValueError, match=r"^ignore_keys: cannot contain 'input_ids'"):
        ChatCollator(llama3(), t.pad, ignore_keys=("input_ids",))
    # Naming start_index skips it on purpose, e.g. under turns="all".
    skipped = ChatCollator(llama3(turns="all"), t.pad, backend=backend, ignore_keys=("start_index",))(
        [{"input_ids": ids, "start_index": 99}]
    )
    assert all(torch.equal(want[k], skipped[k]) for k in want)


@pytest.mark.parametrize("value,message", ROW_ERRORS[:5])
def test_native_boundary_messages_match(value, message):
    # The compiled boundary itself (without the collator's Python checks) raises the same messages.
    with pytest.raises(ValueError, match=message):
        core().rolespan.collate([value], core().rolespan.RoleSpanSpecNative(**llama3().to_native()), 0, False, 1, False)


def test_native_flat_and_option_errors():
    spec = llama3()
    ids = torch.arange(6)
    with pytest.raises(
        ValueError,
        match=r"offsets: entries 0, 1 = 0, 9 are not a non-decreasing range inside "
        r"input_ids of length 6",
    ):
        collate_text_flat_native(ids, np.array([0, 9]), spec, 0)
    with pytest.raises(ValueError, match=r"offsets: expected at least one entry"):
        collate_text_flat_native(ids, np.array([], dtype=np.int64), spec, 0)
    with pytest.raises(ValueError, match=r"input_ids: expected dtype torch.int32 or torch.int64"):
        collate_text_flat_native(ids.float(), np.array([0, 6]), spec, 0)
    with pytest.raises(ValueError, match=r"start_indices: expected 1 entries, got 2"):
        collate_text_native([ids], spec, 0, start_indices=[0, 1])
    with pytest.raises(ValueError, match=r"pad_to_multiple_of: expected an int >= 1"):
        collate_text_native([ids], spec, 0, pad_to_multiple_of=0)
    native = llama3().to_native()
    native["role_offsets"] = [0, 1]
    with pytest.raises(ValueError, match=r"spec: role_offsets: expected one more entry than role_learned"):
        core().rolespan.RoleSpanSpecNative(**native)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(spec="llama3"), r"spec: expected a RoleSpanSpec, got str"),
        (dict(on_empty="skip"), r"on_empty: expected one of \('error', 'warn', 'drop', 'keep'\), got 'skip'"),
        (dict(pad_to_multiple_of=0), r"pad_to_multiple_of: expected an int >= 1 that fits in int64, or None, got 0"),
        (dict(packed=True, pad_to_multiple_of=8), r"pad_to_multiple_of: packed batches are not padded"),
        (dict(backend="gpu"), r"backend: expected one of"),
    ],
)
def test_collator_option_errors(kwargs, message):
    args = dict(spec=llama3(), pad_token_id=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ChatCollator(**args)


@pytest.mark.parametrize(
    "batch,message",
    [
        (chat(1), r"batch: expected a list of features or an Arrow column/table, got dict"),
        ([], r"batch: is empty, nothing to collate"),
    ],
)
def test_batch_errors(batch, message):
    with pytest.raises(ValueError, match=message):
        ChatCollator(llama3(), 0)(batch)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(mode="x"), r"mode: expected one of \('roles', 'completion'\), got 'x'"),
        (dict(turns="first"), r"turns: expected one of \('all', 'last', 'from_start_index'\), got 'first'"),
        (dict(turn_start=()), r"turn_start: expected at least one token id, got none"),
        (dict(header_end=None), r"header_end: expected a sequence of token ids, got NoneType"),
        (dict(end_of_turn=(-1,)), r"end_of_turn: token ids must be >= 0, got \(-1,\)"),
        (dict(learned_roles=("bot",)), r"learned_roles: \['bot'\] not in roles \['assistant', 'user'\]"),
    ],
)
def test_spec_errors(kwargs, message):
    args = dict(turn_start=(1,), header_end=(2,), roles={"user": (3,), "assistant": (4,)}, end_of_turn=(5,))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        RoleSpanSpec(**args)
    with pytest.raises(ValueError, match=r"response_template: expected at least one token id, got none"):
        completion_only(())


def test_chatml_preset_and_tokenizer_ids():
    ids = [
        151644,
        8948,
        198,
        1,
        2,
        151645,
        198,
        151644,
        872,
        198,
        3,
        151645,
        198,
        151644,
        77091,
        198,
        4,
        5,
        151645,
        198,
    ]
    labels = collate_text_native([torch.tensor(ids)], chatml(), 0)["labels"][0]
    assert [v for v in labels.tolist() if v != IGNORE] == [4, 5, 151645]

    class Tok:  # the two methods presets read
        vocab = {"<|start_header_id|>": 7, "<|end_header_id|>": 8, "<|eot_id|>": 9, "<|eom_id|>": 10}

        def convert_tokens_to_ids(self, token):
            return self.vocab[token]

        def encode(self, text, add_special_tokens=False):
            return {"\n\n": [11], "system": [12], "user": [13], "assistant": [14, 15], "ipython": [16]}[text]

    spec = llama3(Tok(), turns="last")
    assert spec.turn_start == (7,) and spec.header_end == (8, 11) and spec.end_of_turn == (9, 10)
    assert spec.role_table["assistant"] == (14, 15) and spec.turns == "last"


def test_label_stats_and_explain():
    out = ChatCollator(llama3(), t.pad, packed=True)([chat(1), chat(2)])
    stats = label_stats(out)
    assert stats.learned == [3, 6] and stats.tokens == [22, 36] and stats.total_learned == 9
    assert "total" in str(stats) and abs(stats.share_learned - 9 / 58) < 1e-12
    padded = ChatCollator(llama3(), t.pad)([chat(1), chat(2)])
    assert label_stats(padded).learned == [3, 6] and label_stats(padded).masked == [19, 30]
    with pytest.raises(ValueError, match=r"batch: expected a dict with 'labels' or an object with label_ids"):
        label_stats([1])

    sample = chat(2)
    labels = list(_builder_labels(sample["input_ids"]))
    text = explain(sample["input_ids"], llama3(), labels=labels)
    assert "labels: identical to the spec's labels" in text and "turn 2 assistant" in text
    labels[3] = 99
    assert "labels: 1 mismatch(es)" in explain(sample, llama3(), labels=labels)


def _builder_labels(ids):
    return collate_text_native([torch.tensor(ids)], llama3(), 0)["labels"][0].tolist()


def test_label_stats_on_higgs_batch():
    from fastcollate.higgs_boson.samples import HiggsAudioBatchInput

    labels = torch.tensor([[IGNORE, 5, 6, IGNORE]])
    audio = torch.tensor([[IGNORE, 1, 2, 3], [IGNORE, IGNORE, 2, 3]])
    batch = HiggsAudioBatchInput(
        input_ids=labels.clamp(min=0),
        attention_mask=torch.tensor([[1, 1, 1, 0]]),
        audio_features=None,
        audio_feature_attention_mask=None,
        audio_out_ids=audio,
        audio_out_ids_start=torch.tensor([0, 2]),
        audio_out_ids_start_group_loc=None,
        audio_in_ids=None,
        audio_in_ids_start=None,
        label_ids=labels,
        label_audio_ids=audio,
    )
    stats = label_stats(batch)
    assert stats.learned == [2] and stats.tokens == [3]
    assert stats.audio_learned == [3, 2] and stats.audio_segment_learned == [1, 4] and "audio" in str(stats)
