"""Every repository path the documentation names in backticks exists, and every snippet it includes is there.

Paths under csrc/, fastcollate/, tests/, benchmarks/, .ci/ and docs/ written in `inline code` in README.md,
CONTRIBUTING.md and the pages under docs/ (CHANGELOG.md is history: it names files as they were). A path
with a placeholder (`csrc/<capability>/`) is a pattern, not a path; a glob (`csrc/*/`) must match something.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The wheel job runs the suite from a copy of tests/ and the docs, with no source tree beside it.
pytestmark = pytest.mark.skipif(not (ROOT / "CMakeLists.txt").is_file(), reason="needs the source tree")

PREFIXES = ("csrc/", "fastcollate/", "tests/", "benchmarks/", ".ci/", "docs/")
PATH = re.compile(r"(?<![\w./-])((?:csrc|fastcollate|tests|benchmarks|\.ci|docs)/[^\s`'\"(),;]*)")


def documents():
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def inline_code(text: str):
    """The `inline code` spans of a Markdown text, fenced blocks left out."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", text)


def named_paths(text: str):
    for span in inline_code(text):
        for path in PATH.findall(span):
            path = path.split("::")[0].rstrip(".:")
            if "<" not in path and "{" not in path:
                yield path


def exists(path: str) -> bool:
    if any(c in path for c in "*?["):
        return any(ROOT.glob(path))
    return (ROOT / path).exists()


def test_documents_name_paths():
    """The check below is not vacuous: the documents name many repository paths."""
    assert sum(len(list(named_paths(d.read_text()))) for d in documents()) > 50


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(doc):
    missing = sorted({p for p in named_paths(doc.read_text()) if not exists(p)})
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::(\w+))?"$', re.M)


@pytest.mark.parametrize("doc", sorted((ROOT / "docs").rglob("*.md")), ids=lambda p: str(p.relative_to(ROOT)))
def test_included_snippets_exist(doc):
    """A page's `--8<-- "FILE:section"` names a file of the repository and a section marked in it."""
    for name, section in SNIPPET.findall(doc.read_text()):
        source = ROOT / name
        assert source.is_file(), f"{doc.relative_to(ROOT)} includes {name}, which does not exist"
        if section:
            text = source.read_text()
            assert f"--8<-- [start:{section}]" in text and f"--8<-- [end:{section}]" in text, (name, section)
