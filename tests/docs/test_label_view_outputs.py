"""The token view's outputs the documentation shows are what the examples print now: every ```text block
marked `<!-- readme-output: TAG -->` equals the stdout of the python block tagged TAG (run in order with the
page's other shown blocks and the setup blocks they use, in one namespace, offline, from an empty folder).
test_doc_examples.py runs every block of every page besides."""

import contextlib
import io
import re

import pytest
from doc_blocks import blocks, doc_files

SETUP = {"toy_tokenizer"}  # the tokenizer folder the guide's view reads
OUTPUT = re.compile(r"<!-- readme-output: (\w+) -->\n```text\n(.*?)```", re.S)


def pages_with_outputs():
    return [p for p in doc_files() if OUTPUT.search(p.read_text())]


def test_readme_and_the_guide_show_outputs():
    names = {p.name for p in pages_with_outputs()}
    assert {"README.md", "seeing-labels.md"} <= names


@pytest.mark.parametrize("page", pages_with_outputs(), ids=lambda p: p.name)
def test_shown_output_is_what_the_block_prints(page, tmp_path, monkeypatch):
    pytest.importorskip("tokenizers")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    shown = dict(OUTPUT.findall(page.read_text()))
    ns, printed = {}, {}
    for tag, code in blocks("python", page):
        if tag in SETUP:
            exec(code, ns)
        if tag not in shown:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, ns)
        printed[tag] = out.getvalue()
    assert printed.keys() == shown.keys()
    for tag, text in shown.items():
        assert printed[tag] == text, f"{page.name}: the output shown after {tag!r} is stale"
