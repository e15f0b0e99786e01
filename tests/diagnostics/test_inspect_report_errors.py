"""`inspect --tokenizer` and `inspect --html` on hostile tokenizers, report paths and saved batches: the token
text never writes a control character raw (on the terminal or in the report), and every report that cannot be
written or drawn is bad input (exit 2, one line on stderr, never a traceback)."""

import json
from pathlib import Path

import pytest
import torch
from inspect_run import PREFIX, inspect
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

CONTROL = "\x1b]0;pwned\x07\x1b[31mRED\x7f\x9b"


def byte_level_tokenizer(folder):
    """A tokenizer with one token per byte (any text, control bytes included, encodes and decodes as it is),
    and one for the C1 control character U+009B (CSI)."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE({c: i for i, c in enumerate(alphabet)}, []))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["\x9b"])
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    return tok


def test_token_view_escapes_control_characters(tmp_path, capsys):
    tok = byte_level_tokenizer(tmp_path / "tok")
    ids = tok.encode(CONTROL).ids
    assert tok.decode(ids, skip_special_tokens=False) == CONTROL  # the raw control characters back
    path, report = tmp_path / "esc.jsonl", tmp_path / "esc.html"
    path.write_text(json.dumps({"input_ids": ids}) + "\n")
    rc, out, err = inspect(capsys, path, "--tokenizer", tmp_path / "tok", "--html", report, "--allow-empty")
    assert rc == 0, err
    view = out[out.index("=== tokens") :]
    assert "\\x1b]0;pwned\\x07\\x1b[31mRED\\x7f\\x9b" in view
    html = report.read_text(encoding="utf-8")
    assert ">\\x1b<" in html and ">\\x07<" in html and ">\\x9b<" in html
    for text in (out, err, html):
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)


def assert_bad_input(rc, out, err, *messages):
    assert rc == 2, (rc, out, err)
    assert err.startswith(PREFIX) and err.count("\n") == 1 and "Traceback" not in err, err
    for m in messages:
        assert m in err, err


def chat_jsonl(path):
    path.write_text(json.dumps({"input_ids": [128000, 128006, 78191, 128007, 271, 9906, 128009]}) + "\n")
    return path


@pytest.mark.parametrize(
    "report, message",
    [
        ("", "--html: expected a file name for the report, got ''"),
        ("{tmp}", "--html: {tmp}: is a folder; name the report's file"),
        ("{tmp}/a.jsonl/r.html", "--html: {tmp}/a.jsonl/r.html: its folder does not exist"),
        ("/proc/fastcollate-report.html", "--html: /proc/fastcollate-report.html: cannot write the report"),
    ],
    ids=["empty", "folder", "under_a_file", "unwritable"],
)
def test_a_report_path_that_cannot_be_written_is_bad_input_before_any_work(tmp_path, capsys, report, message):
    if report.startswith("/proc") and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    path = chat_jsonl(tmp_path / "a.jsonl")
    rc, out, err = inspect(capsys, path, "--html", report.format(tmp=tmp_path))
    assert out == ""  # refused before anything is inspected
    assert_bad_input(rc, out, err, message.format(tmp=tmp_path))


def test_report_needs_no_chat_template_from_the_tokenizer(tmp_path, capsys):
    """inspect gives the report samples it has read with its spec: a tokenizer without the Llama-3 header
    tokens still decodes them, with --html as without it."""
    tok = Tokenizer(models.WordLevel({"<unk>": 0, "a": 1}, unk_token="<unk>"))
    tok.add_special_tokens(["<|start_header_id|>"])
    (tmp_path / "tok").mkdir()
    tok.save(str(tmp_path / "tok" / "tokenizer.json"))
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"input_ids": [2, 1]}) + "\n")
    rc, out, err = inspect(capsys, path, "--tokenizer", tmp_path / "tok", "--allow-empty")
    assert (rc, err) == (0, "") and "<|start_header_id|>a" in out
    report = tmp_path / "r.html"
    rc, out, err = inspect(capsys, path, "--tokenizer", tmp_path / "tok", "--allow-empty", "--html", report)
    assert (rc, err) == (0, "") and f"report: {report}" in out
    assert "&lt;|start_header_id|&gt;" in report.read_text(encoding="utf-8")


def test_a_report_that_fails_is_bad_input(tmp_path, capsys, monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("batch: something the report cannot draw\nsecond line")

    monkeypatch.setattr("fastcollate.diagnostics.inspect_views.html_report", fails)
    path = chat_jsonl(tmp_path / "a.jsonl")
    rc, out, err = inspect(capsys, path, "--html", tmp_path / "r.html")
    assert_bad_input(rc, out, err, f"--html: {path}: cannot show this file: ValueError: batch: something the report")


def boson_fields(**change):
    ids = torch.tensor([[128000, 128006, 78191, 128007, 271, 128016, 128009]])
    fields = {
        "input_ids": ids,
        "label_ids": ids.clone(),
        "audio_out_ids": torch.zeros(8, 5, dtype=torch.long),
        "label_audio_ids": torch.zeros(8, 5, dtype=torch.long),
        "audio_out_ids_start": torch.tensor([0]),
    }
    fields.update(change)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.mark.parametrize(
    "change, message",
    [
        (
            dict(audio_out_ids=None),
            "need audio_out_ids and label_audio_ids of shape (K, N): 'audio_out_ids' is missing",
        ),
        (
            dict(audio_out_ids=torch.zeros(8, 3, dtype=torch.long)),
            "label_audio_ids: shape (8, 5) != audio_out_ids shape (8, 3)",
        ),
        (
            dict(audio_out_ids=torch.zeros(5, dtype=torch.long), label_audio_ids=torch.zeros(5, dtype=torch.long)),
            "of shape (K, N): audio_out_ids has shape (5,)",
        ),
        (dict(label_audio_ids=torch.zeros(8, 5)), "label_audio_ids: expected integer ids, got torch.float32"),
        (dict(label_audio_ids=[[0] * 5] * 8), "label_audio_ids is a list, not a tensor"),
        (dict(audio_out_ids_start=torch.tensor([3, 1])), "audio_out_ids_start: expected non-decreasing clip starts"),
        (dict(audio_out_ids_start=torch.tensor([0, 6])), "within 0 .. 5 (the frames of audio_out_ids), got [0, 6]"),
    ],
    ids=["no_audio_out_ids", "shapes_differ", "1d", "float", "list", "starts_decrease", "start_past_end"],
)
@pytest.mark.parametrize("html", [False, True], ids=["text", "html"])
def test_boson_audio_fields_are_checked_where_the_pt_is_read(tmp_path, capsys, change, message, html):
    path = tmp_path / "boson.pt"
    torch.save(boson_fields(**change), path)
    argv = ["--html", tmp_path / "r.html"] if html else []
    rc, out, err = inspect(capsys, path, *argv)
    assert out == ""
    assert_bad_input(rc, out, err, f"{path}: ", message)


def test_boson_audio_fields_that_agree_are_drawn(tmp_path, capsys):
    path, report = tmp_path / "boson.pt", tmp_path / "r.html"
    torch.save(boson_fields(), path)
    rc, out, err = inspect(capsys, path, "--html", report)
    assert err == "" and rc in (0, 1) and "Audio labels: 1 clip(s)" in report.read_text(encoding="utf-8")
