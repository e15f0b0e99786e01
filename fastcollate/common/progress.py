"""A one-line progress bar on stderr for commands that read large files (`inspect`, `plan`).

Shown only when its stream is a terminal, so logs and pipes never fill with carriage returns; no dependency.
"""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, Optional, TextIO

BAR_WIDTH = 24


class Progress:
    """`desc: [#####.....] 1,234/5,678 rows (21%)`, redrawn in place at most every `interval` seconds and erased
    by close(). `enabled=None`: only when `stream` is a terminal."""

    def __init__(
        self,
        total: Optional[int],
        desc: str,
        unit: str = "samples",
        stream: Optional[TextIO] = None,
        enabled: Optional[bool] = None,
        interval: float = 0.1,
    ):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled, self.total, self.desc, self.unit, self.interval = enabled, total, desc, unit, interval
        self.done, self._shown, self._last = 0, 0, 0.0

    def text(self) -> str:
        if self.total:
            filled = min(BAR_WIDTH, self.done * BAR_WIDTH // self.total)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            percent = min(100, self.done * 100 // self.total)
            return f"{self.desc}: [{bar}] {self.done:,}/{self.total:,} {self.unit} ({percent}%)"
        return f"{self.desc}: {self.done:,} {self.unit}"

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.enabled and time.monotonic() - self._last >= self.interval:
            self._draw()

    def _draw(self) -> None:
        line = self.text()
        self.stream.write("\r" + line + " " * max(0, self._shown - len(line)))
        self.stream.flush()
        self._shown, self._last = len(line), time.monotonic()

    def close(self) -> None:
        """Erases the bar, so what is printed next starts on a clean line."""
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._draw()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(
    iterable: Iterable,
    total: Optional[int],
    desc: str,
    unit: str = "samples",
    stream: Optional[TextIO] = None,
    enabled: Optional[bool] = None,
) -> Iterator:
    """The items of `iterable`, counted on a Progress bar (erased at the end, or when the caller stops early)."""
    with Progress(total, desc, unit, stream, enabled) as bar:
        for item in iterable:
            yield item
            bar.update()
