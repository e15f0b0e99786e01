"""Running `python -m fastcollate inspect` in-process, as the tests of its files and messages do."""

import sys
from unittest import mock

from fastcollate.__main__ import main

PREFIX = "python -m fastcollate inspect: error: "


def inspect(capsys, *argv):
    """(exit status, stdout, stderr); the program names itself as `python -m fastcollate` does."""
    with mock.patch.object(sys, "argv", ["/somewhere/fastcollate/__main__.py"]):
        rc = main(["inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err
