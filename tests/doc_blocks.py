"""The documentation's code blocks, for the tests that run them: README.md and every page under docs/.

A block is tagged by a `<!-- readme-test: tag -->` line just above its fence; tags are unique across the
files, so a test finds its block by tag wherever the block lives.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def doc_files():
    """README.md, then every page under docs/ in path order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(lang: str, path: Path):
    """(tag, code) of every ```lang block of one file, in order; tag from a readme-test line just above."""
    text = path.read_text()
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(rf"(?:<!-- readme-test: (\w+) -->\n)?```{lang}\n(.*?)```", text, re.S)
    ]


def tagged(lang: str = "python"):
    """{tag: [(path, code), ...]} over every documentation file."""
    found = {}
    for path in doc_files():
        for tag, code in blocks(lang, path):
            if tag:
                found.setdefault(tag, []).append((path, code))
    return found


def block(tag: str) -> str:
    codes = tagged().get(tag, [])
    assert len(codes) == 1, f"the documentation has {len(codes)} python blocks tagged {tag!r}"
    return codes[0][1]
