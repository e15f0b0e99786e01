"""`python -m fastcollate demo` tells the truth: a comparison only when the compiled path exists."""

import pytest
from conftest import COMPILED

from fastcollate.demo import run_demo
from fastcollate.runtime import backend as _backend

COLUMNS = "sample  tokens text learned text masked learned% audio learned audio masked"


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_demo_compares_compiled_with_fallback(capsys):
    assert run_demo(batch_size=4) == 0
    out = capsys.readouterr().out
    assert "compiled C++ path vs pure-Python fallback: bit-identical on every field" in out
    assert COLUMNS in out and "audio columns count label entries" in out
    assert "sample 1 learns no audio: this demo set the label of its <|AUDIO_OUT|> token to -100" in out
    assert "x faster, single thread" in out and "median of" in out


def test_demo_without_the_compiled_path_claims_no_comparison(capsys, monkeypatch):
    monkeypatch.setattr(_backend, "_core", None)
    monkeypatch.setattr(_backend, "_CORE_ERROR", ImportError("no _core here"))
    assert run_demo(batch_size=3) == 0
    out = capsys.readouterr().out
    assert "compiled C++ path: NOT AVAILABLE, so nothing is compared" in out
    assert "no _core here" in out
    assert "bit-identical" not in out and "faster" not in out
    assert COLUMNS in out
