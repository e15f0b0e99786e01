"""`inspect --tokenizer` and `inspect --html` on hostile tokenizers, report paths and saved batches: the token
text never writes a control character raw (on the terminal or in the report), and every report that cannot be
written or drawn is bad input (exit 2, one line on stderr, never a traceback)."""

import json

from inspect_run import inspect
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
