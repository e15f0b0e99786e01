"""`python -m fastcollate inspect FILE`: every file format, exit codes 0/1/2/3, the all -100 flag, padding,
start_index, and the program name in messages."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from fastcollate import presets
from fastcollate.__main__ import main
from fastcollate.rolespan.reference import mask_labels_reference
from fastcollate.synthetic import IGNORE, LLAMA3_IDS, synthetic_text_batch

T = LLAMA3_IDS
# What `tokenizer.encode("<|start_header_id|>assistant<|end_header_id|>\n\n")` gives with Llama-3: a BOS first.
TEMPLATE_WITH_BOS = f"{T.begin_of_text},{T.start_header},{T.assistant},{T.end_header},{T.double_newline}"
RESPONSE = f"{T.start_header},{T.assistant},{T.end_header},{T.double_newline}"
INSTRUCTION = f"{T.start_header},{T.user},{T.end_header},{T.double_newline}"


def chats(n=3, seq_len=48, exchanges=1, seed=0):
    """(input_ids, labels) lists of Llama-3 chats whose labels are the llama3 spec's."""
    return [
        (s.input_ids.tolist(), s.label_ids.tolist())
        for s in synthetic_text_batch(n, seq_len, exchanges=exchanges, seed=seed)
    ]


def learned(labels):
    return sum(v != IGNORE for v in labels)


def write_jsonl(path, rows, key="labels", extra=None):
    with open(path, "w") as f:
        for i, (ids, labels) in enumerate(rows):
            obj = {"input_ids": ids}
            if labels is not None:
                obj[key] = labels
            obj.update((extra or {}).get(i, {}))
            f.write(json.dumps(obj) + "\n")
    return path


def pad(rows, length, value, left=False):
    out = torch.full((len(rows), length), value, dtype=torch.long)
    for i, r in enumerate(rows):
        if left:
            out[i, length - len(r) :] = torch.tensor(r)
        else:
            out[i, : len(r)] = torch.tensor(r)
    return out


def inspect(capsys, *argv):
    # As `python -m fastcollate` runs it (the program name comes from sys.argv[0]).
    with mock.patch.object(sys, "argv", ["/somewhere/fastcollate/__main__.py"]):
        rc = main(["inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


# ------------------------------------------------------------------------------------------------ jsonl


def test_jsonl_matching_labels_exit_0(tmp_path, capsys):
    rows = chats(3)
    rc, out, err = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", rows))
    assert rc == 0 and err == ""
    assert "spec: presets.llama3()" in out
    for i, (_ids, labels) in enumerate(rows):
        assert f"=== sample {i} ===" in out
        assert f"sample {i}: OK, given labels match the spec ({learned(labels)} learned)" in out
    assert out.count("labels: identical to the spec's labels") == 3
    assert "3 of 3 with labels match the spec" in out
    assert "result: given labels agree with the spec (exit 0)" in out


def test_jsonl_all_masked_flagged_exit_1(tmp_path, capsys):
    rows = chats(4)
    n = learned(rows[3][1])
    rows[3] = (rows[3][0], [IGNORE] * len(rows[3][0]))
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", rows))
    assert rc == 1
    assert (
        f"sample 3: given labels are ALL -100 (0 learned), the spec learns {n} tokens  "
        "<-- NOTHING IS TRAINED ON THIS SAMPLE"
    ) in out
    assert "!! 1 sample with given labels ALL -100 where the spec learns tokens (nothing is trained on them): 3" in out
    assert "3 of 4 with labels match the spec" in out
    assert "result: given labels DIFFER from the spec (exit 1)" in out


def test_jsonl_one_token_differs_exit_1(tmp_path, capsys):
    rows = chats(2)
    ids, labels = rows[1]
    last = len(ids) - 1  # the assistant's <|eot_id|>: learned by the spec
    assert ids[last] == T.eot and labels[last] == T.eot
    labels = labels[:last] + [IGNORE]
    rows[1] = (ids, labels)
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", rows))
    assert rc == 1
    assert (
        f"sample 1: MISMATCH: 1 of {len(ids)} positions differ; first: position {last} (token {T.eot}): given "
        f"{IGNORE}, spec {T.eot} (given labels learn {learned(labels)}, the spec learns {learned(labels) + 1})"
    ) in out
    assert f"  {last:>5} {T.eot:>8} {IGNORE:>8} {T.eot:>8}" in out  # explain's comparison table row
    assert "!! 1 sample whose given labels differ from the spec: 1" in out


def test_jsonl_without_labels_and_label_ids_key(tmp_path, capsys):
    rows = chats(2)
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", [(rows[0][0], None), rows[1]], key="label_ids"))
    assert rc == 0
    assert f"sample 0: no labels given; the spec learns {learned(rows[0][1])} tokens" in out
    assert "sample 1: OK, given labels match the spec" in out
    assert "1 of 1 with labels match the spec, 1 without labels" in out


def test_sample_selects_one(tmp_path, capsys):
    rows = chats(3)
    rows[0] = (rows[0][0], [IGNORE] * len(rows[0][0]))  # not chosen: must not change the exit code
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    rc, out, _ = inspect(capsys, path, "--sample", 2)
    assert rc == 0
    assert "=== sample 2 ===" in out and "=== sample 0 ===" not in out and "=== sample 1 ===" not in out
    assert "=== summary: 1 sample inspected ===" in out
    rc, out, _ = inspect(capsys, path, "--all")
    assert rc == 1 and "=== sample 0 ===" in out


def test_start_index_selects_turns(tmp_path, capsys):
    # Turns: 0 system, 1 user, 2 assistant, 3 user, 4 assistant. start_index=3 -> only turn 4 is learned.
    ((ids, all_turns),) = chats(1, seq_len=80, exchanges=2)
    spec = presets.llama3()
    from_3 = mask_labels_reference(ids, spec, 3).tolist()
    assert 0 < learned(from_3) < learned(all_turns)
    path = write_jsonl(tmp_path / "a.jsonl", [(ids, from_3)], extra={0: {"start_index": 3}})
    rc, out, _ = inspect(capsys, path)
    assert rc == 0, out
    assert "spec: presets.llama3()" in out
    assert "start_index=3" in out and "masked (before start_index / not last)" in out
    # --start-index overrides the file's: with 0 every assistant turn is learned, so the given labels differ.
    rc, out, _ = inspect(capsys, path, "--start-index", 0)
    assert rc == 1
    assert f"given labels learn {learned(from_3)}, the spec learns {learned(all_turns)}" in out
    # --turns all does not read start_index: a sample carrying one is an input error, never ignored.
    rc, out, _ = inspect(
        capsys, write_jsonl(tmp_path / "b.jsonl", [(ids, all_turns)], extra={0: {"start_index": 3}}), "--turns", "all"
    )
    assert rc == 2


# ------------------------------------------------------------------------------------------------ .pt


@pytest.mark.parametrize("left", [False, True], ids=["right_padded", "left_padded_bool_mask"])
def test_pt_padded_batch_attention_mask_strips_padding(tmp_path, capsys, left):
    rows = chats(3, seq_len=40) + chats(1, seq_len=56, seed=1)
    length = max(len(r[0]) for r in rows) + 5
    batch = dict(
        input_ids=pad([r[0] for r in rows], length, T.pad, left),
        labels=pad([r[1] for r in rows], length, IGNORE, left),
        attention_mask=pad([[1] * len(r[0]) for r in rows], length, 0, left).to(torch.bool if left else torch.long),
    )
    torch.save(batch, tmp_path / "b.pt")
    rc, out, _ = inspect(capsys, tmp_path / "b.pt")
    assert rc == 0, out
    for ids, labels in rows:
        assert f"{len(ids)} tokens, {learned(labels)} learned, 3 turn(s)" in out
    assert f"{length} tokens" not in out
    assert str(T.pad) not in out  # the padding is gone


def test_pt_padded_batch_without_attention_mask_keeps_padding(tmp_path, capsys):
    rows = chats(2, seq_len=40)
    length = len(rows[0][0]) + 7
    torch.save(
        dict(input_ids=pad([r[0] for r in rows], length, T.pad), label_ids=pad([r[1] for r in rows], length, IGNORE)),
        tmp_path / "b.pt",
    )
    rc, out, _ = inspect(capsys, tmp_path / "b.pt")
    assert rc == 0  # trailing padding is outside every turn: masked by the spec too
    assert out.count(f"{length} tokens, ") == 2


def test_pt_list_of_dicts_and_ragged_dict(tmp_path, capsys):
    rows = chats(3)
    rows[1] = (rows[1][0], [IGNORE] * len(rows[1][0]))
    per_sample = [dict(input_ids=torch.tensor(ids), labels=torch.tensor(labels)) for ids, labels in rows]
    torch.save(per_sample, tmp_path / "list.pt")
    rc, out, _ = inspect(capsys, tmp_path / "list.pt")
    assert rc == 1 and "sample 1: given labels are ALL -100 (0 learned)" in out
    torch.save(dict(input_ids=[torch.tensor(r[0]) for r in rows], labels=[r[1] for r in rows]), tmp_path / "rag.pt")
    rc2, out2, _ = inspect(capsys, tmp_path / "rag.pt")
    assert (rc2, out2.replace("rag.pt", "list.pt")) == (rc, out)


def test_pt_single_sample_1d(tmp_path, capsys):
    ((ids, labels),) = chats(1)
    torch.save(dict(input_ids=torch.tensor(ids), labels=torch.tensor(labels), start_index=0), tmp_path / "one.pt")
    rc, out, _ = inspect(capsys, tmp_path / "one.pt")
    assert rc == 0 and "1 sample;" in out and "start_index=0" in out


# ------------------------------------------------------------------------------------------------ .npz


def test_npz_padded_with_attention_mask(tmp_path, capsys):
    rows = chats(2, seq_len=40) + chats(1, seq_len=60, seed=2)
    length = max(len(r[0]) for r in rows) + 3
    np.savez(
        tmp_path / "b.npz",
        input_ids=pad([r[0] for r in rows], length, T.pad).numpy(),
        labels=pad([r[1] for r in rows], length, IGNORE).numpy(),
        attention_mask=pad([[1] * len(r[0]) for r in rows], length, 0).numpy(),
    )
    rc, out, _ = inspect(capsys, tmp_path / "b.npz")
    assert rc == 0, out
    for ids, labels in rows:
        assert f"{len(ids)} tokens, {learned(labels)} learned" in out


def test_npz_ragged_offsets(tmp_path, capsys):
    rows = chats(2, seq_len=40) + chats(1, seq_len=70, seed=3)
    rows[2] = (rows[2][0], [IGNORE] * len(rows[2][0]))
    offsets = np.cumsum([0] + [len(r[0]) for r in rows]).astype(np.int64)
    np.savez(
        tmp_path / "r.npz",
        input_ids=np.concatenate([r[0] for r in rows]).astype(np.int32),
        labels=np.concatenate([r[1] for r in rows]).astype(np.int64),
        offsets=offsets,
    )
    rc, out, _ = inspect(capsys, tmp_path / "r.npz")
    assert rc == 1
    assert "r.npz: 3 samples;" in out
    for ids, _ in rows:
        assert f"{len(ids)} tokens, " in out
    n = learned(chats(1, seq_len=70, seed=3)[0][1])
    assert f"sample 2: given labels are ALL -100 (0 learned), the spec learns {n} tokens" in out


# ------------------------------------------------------------------------------------------------ specs


def test_completion_only_templates(tmp_path, capsys):
    rows = chats(2, seq_len=80, exchanges=2)
    # The common bug: the response template encoded with a BOS never occurs in context, so TRL's collator
    # masks the whole sample. With that template the spec learns nothing either: flagged, but they agree.
    masked = [(ids, [IGNORE] * len(ids)) for ids, _ in rows]
    path = write_jsonl(tmp_path / "masked.jsonl", masked)
    rc, out, _ = inspect(capsys, path, "--response-template", TEMPLATE_WITH_BOS)
    assert rc == 3  # labels and spec agree, but the spec learns nothing: a CI check must fail
    assert "result: the spec learns NOTHING in 2 samples; given labels agree with the spec (exit 3" in out
    rc, out, _ = inspect(capsys, path, "--response-template", TEMPLATE_WITH_BOS, "--allow-empty")
    assert rc == 0 and "result: given labels agree with the spec (exit 0)" in out
    assert "spec: completion_only(response_template=[128000, 128006, 78191, 128007, 271]" in out
    assert "sample 0: given labels are ALL -100 (0 learned) and so are the spec's (no response template found)" in out
    assert "!! 2 samples where the spec learns nothing: 0, 1" in out
    # Without the BOS, response/instruction templates learn exactly what presets.llama3 learns here.
    path = write_jsonl(tmp_path / "good.jsonl", rows)
    rc, out, _ = inspect(capsys, path, "--response-template", RESPONSE, "--instruction-template", INSTRUCTION)
    assert rc == 0, out
    assert "2 of 2 with labels match the spec" in out
    assert out.count("turn(s)") == 2 and "2 turn(s)" in out  # one "turn" per response span
    # Without an instruction template every token after the first response is learned (the user turn too).
    rc, out, _ = inspect(capsys, path, "--response-template", RESPONSE)
    assert rc == 1 and "MISMATCH" in out


def test_chatml_spec_on_llama3_data_differs(tmp_path, capsys):
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", chats(1)), "--spec", "chatml")
    assert rc == 3  # the chatml spec learns nothing on Llama-3 ids (and the labels differ)
    assert "given labels DIFFER from the spec (exit 3" in out
    rc, out, _ = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", chats(1)), "--spec", "chatml", "--allow-empty")
    assert rc == 1
    assert "spec: presets.chatml()" in out and "the spec learns 0 (no assistant turn found)" in out


# ------------------------------------------------------------------------------------------------ bad input


def _bad_files(tmp_path):
    ((ids, labels),) = chats(1)

    def jsonl(name, text):
        (tmp_path / name).write_text(text)
        return tmp_path / name

    np.savez(tmp_path / "noids.npz", labels=np.array(labels))
    np.savez(tmp_path / "offsets.npz", input_ids=np.array(ids), offsets=np.array([0, 3, len(ids) + 1]))
    np.savez(tmp_path / "float.npz", input_ids=np.zeros((2, 4)))

    def save(obj, name):
        torch.save(obj, tmp_path / name)
        return tmp_path / name

    mask = dict(input_ids=torch.zeros(2, 4, dtype=torch.long))
    return {
        "missing": (tmp_path / "missing.jsonl", "missing.jsonl: no such file"),
        "extension": (
            jsonl("data.csv", "x"),
            "unknown file type '.csv'; expected one of ['.arrow', '.jsonl', '.npz', '.parquet', '.pt'] or a folder",
        ),
        "json": (jsonl("bad.jsonl", '{"input_ids": [1, 2]}\n{"input_ids": [1,\n'), "bad.jsonl:2: invalid JSON"),
        "no_ids": (jsonl("noids.jsonl", '{"labels": [1]}\n'), "noids.jsonl:1: missing 'input_ids' (keys: ['labels'])"),
        "not_ints": (
            jsonl("str.jsonl", '{"input_ids": [1, "x"]}\n'),
            "input_ids: expected a list of ints, found 'x' (str)",
        ),
        "length": (
            jsonl("len.jsonl", json.dumps({"input_ids": ids, "labels": labels[:-1]}) + "\n"),
            f"len.jsonl:1: labels has {len(ids) - 1} tokens, input_ids has {len(ids)}",
        ),
        "empty": (jsonl("empty.jsonl", "\n\n"), "empty.jsonl: no samples found"),
        "npz_no_ids": (tmp_path / "noids.npz", "noids.npz: missing array 'input_ids' (arrays: ['labels'])"),
        "offsets": (tmp_path / "offsets.npz", "offsets: expected B+1 non-decreasing ints from 0 to len(input_ids)"),
        "float": (tmp_path / "float.npz", "input_ids[0]: expected integer ids, got a float64 array"),
        "mask": (
            save(dict(mask, attention_mask=torch.ones(2, 5, dtype=torch.long)), "mask.pt"),
            "attention_mask[0]: length 5 != input_ids[0] length 4",
        ),
        "floatmask": (
            save(dict(mask, attention_mask=torch.ones(2, 4)), "floatmask.pt"),
            "attention_mask: expected an integer or bool mask, got torch.float32",
        ),
        "3d": (
            save(dict(input_ids=torch.zeros(2, 3, 4, dtype=torch.long)), "3d.pt"),
            "input_ids: expected 1-D (one sample) or 2-D (batch, tokens), got shape (2, 3, 4)",
        ),
        "torch": (jsonl("garbage.pt", "not a torch file"), "garbage.pt: torch.load(weights_only=True) failed"),
    }


BAD = [
    "missing",
    "extension",
    "json",
    "no_ids",
    "not_ints",
    "length",
    "empty",
    "npz_no_ids",
    "offsets",
    "float",
    "mask",
    "floatmask",
    "3d",
    "torch",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_file_exit_2(tmp_path, capsys, case):
    path, message = _bad_files(tmp_path)[case]
    rc, out, err = inspect(capsys, path)
    assert rc == 2 and out == ""
    assert err.startswith("python -m fastcollate inspect: error: ")
    assert "Traceback" not in err
    assert message in err, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--response-template", "128006,x"], "--response-template: expected comma-separated token ids"),
        (["--response-template", " , "], "--response-template: expected at least one token id"),
        (["--response-template", "-5"], r"response_template: token ids must be >= 0, got \(-5,\)"),
        (["--instruction-template", "1,2"], "--instruction-template needs --response-template"),
        (["--spec", "llama3", "--response-template", "1"], "--spec and --response-template: choose one"),
        (["--sample", "3"], r"--sample: 3 is out of range; .* has 1 sample \(0 .. 0\)"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, capsys, argv, message):
    rc, out, err = inspect(capsys, write_jsonl(tmp_path / "a.jsonl", chats(1)), *argv)
    assert rc == 2 and out == ""
    assert re.search(message, err), err


def test_argparse_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["inspect", str(write_jsonl(tmp_path / "a.jsonl", chats(1))), "--sample", "0", "--all"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_python_m_exit_codes(tmp_path):
    rows = chats(2)
    rows[0] = (rows[0][0], [IGNORE] * len(rows[0][0]))
    path = write_jsonl(tmp_path / "a.jsonl", rows)

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "fastcollate", "inspect", *map(str, a)], capture_output=True, text=True
        )

    p = run(path)
    assert p.returncode == 1 and "sample 0: given labels are ALL -100 (0 learned)" in p.stdout
    assert run(path, "--sample", 1).returncode == 0
    p = run(tmp_path / "nope.npz")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "nope.npz: no such file" in p.stderr


# ------------------------------------------------------------------------------------------------ exit 3


def test_exit_3_when_the_spec_learns_nothing(tmp_path, capsys):
    """A file that trains nothing must fail a check on the exit status, with or without given labels."""
    rows = chats(3)
    no_assistant = [t for t in rows[1][0]]
    no_assistant[no_assistant.index(T.assistant)] = T.user  # its only assistant turn becomes a user turn
    path = write_jsonl(tmp_path / "a.jsonl", [(rows[0][0], None), (no_assistant, None), (rows[2][0], None)])
    rc, out, _ = inspect(capsys, path)
    assert rc == 3
    assert "sample 1: no labels given; the spec learns 0 tokens (no assistant turn found)" in out
    assert "!! 1 sample where the spec learns nothing: 1" in out
    n = learned(rows[0][1]) + learned(rows[2][1])
    assert f"no labels given: nothing to compare; the spec learns {n} tokens in 3 samples (0 to " in out
    assert "result: the spec learns NOTHING in 1 sample; no labels given, nothing compared; the spec learns" in out
    assert "given labels agree" not in out  # there are none
    rc, out, _ = inspect(capsys, path, "--allow-empty")
    assert rc == 0 and "!! 1 sample where the spec learns nothing: 1" in out
    assert inspect(capsys, path, "--sample", 0)[0] == 0  # only the chosen samples count
    # Both the given labels and the spec's all -100 (the case that used to exit 0).
    path = write_jsonl(tmp_path / "b.jsonl", [(no_assistant, [IGNORE] * len(no_assistant))])
    rc, out, _ = inspect(capsys, path)
    assert rc == 3 and "given labels are ALL -100 (0 learned) and so are the spec's" in out
    # An empty sample, and every learned turn before start_index.
    path = write_jsonl(tmp_path / "c.jsonl", [([], None)])
    assert inspect(capsys, path)[0] == 3
    path = write_jsonl(tmp_path / "d.jsonl", [rows[0]], extra={0: {"start_index": 99}})
    rc, out, _ = inspect(capsys, path)
    assert rc == 3 and "(all learned turns are before start_index)" in out
    with pytest.raises(SystemExit):
        main(["inspect", "--help"])
    assert "3  the spec learns NOTHING in some inspected sample" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ start_index


@pytest.mark.parametrize(
    "argv, hint",
    [
        (["--turns", "all"], "leave out --turns, or leave out start_index"),
        (["--turns", "last"], "leave out --turns, or leave out start_index"),
        (["--response-template", RESPONSE], "use --spec instead of the templates, or leave out start_index"),
    ],
)
def test_start_index_under_turns_that_do_not_read_it_exit_2(tmp_path, capsys, argv, hint):
    ((ids, labels),) = chats(1, seq_len=80, exchanges=2)
    path = write_jsonl(tmp_path / "a.jsonl", [(ids, labels), (ids, labels)], extra={1: {"start_index": 3}})
    rc, out, err = inspect(capsys, path, *argv)
    assert rc == 2 and out == ""
    assert re.search(r"error: sample 1: start_index: is 3, but .*\[on the command line: " + re.escape(hint), err), err
    # The same through --start-index, and fine without a start_index.
    rc, _, err = inspect(capsys, path, *argv, "--start-index", 2)
    assert rc == 2 and "sample 0: start_index: is 2, but" in err
    assert inspect(capsys, path, *argv, "--sample", 0)[0] in (0, 1)


# ------------------------------------------------------------------------------------------------ program name


def test_messages_name_the_program_as_called(tmp_path):
    """`python -m fastcollate` and the `fastcollate` console script each name themselves."""
    missing = str(tmp_path / "nope.jsonl")
    p = subprocess.run([sys.executable, "-m", "fastcollate", "inspect", missing], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("python -m fastcollate inspect: error: ")
    p = subprocess.run([sys.executable, "-m", "fastcollate"], capture_output=True, text=True)
    assert p.stderr.startswith("usage: python -m fastcollate ")
    script = shutil.which("fastcollate", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the fastcollate console script is not installed next to this Python")
    p = subprocess.run([script, "inspect", missing], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("fastcollate inspect: error: "), p.stderr
    p = subprocess.run([script], capture_output=True, text=True)
    assert p.stderr.startswith("usage: fastcollate "), p.stderr
