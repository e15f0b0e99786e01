"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package) loads it from a file,
offline, and its screenshot shows the summary chart's colors and the clip pictures' cells.

Skipped where no chromium is on PATH, unless FASTCOLLATE_REQUIRE_BROWSER=1 (CI sets it: .ci/run installs
chromium), where that is a failure.
"""

import os
import shutil
import subprocess

import pytest
from png_read import count_color, read_png
from report_cases import v2_batch

from fastcollate.diagnostics.clip_picture import CELLS, DELAY_FILL, EOS_NOT_LEARNED, LEARNED, STREAM_BOS
from fastcollate.diagnostics.html_report import CHART, html_report

WIDTH, HEIGHT = 1000, 1400


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("FASTCOLLATE_REQUIRE_BROWSER") == "1":
            pytest.fail("FASTCOLLATE_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium); FASTCOLLATE_REQUIRE_BROWSER=1 makes this fail")
    return path


def screenshot(browser: str, page, tmp_path):
    shot = tmp_path / "shot.png"
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        # A fresh profile: nothing of the user's, nothing left behind.
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={shot}",
        page.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    return read_png(shot.read_bytes())


def test_chromium_renders_the_summary_chart_and_the_clip_pictures(tmp_path):
    browser = chromium()
    page = tmp_path / "report.html"
    # The processor's labels (sample 0 padded): every chart color, and clips that never learn their EOS.
    page.write_text(html_report(v2_batch(correct=False)), encoding="utf-8")
    image = screenshot(browser, page, tmp_path)
    assert image.shape == (HEIGHT, WIDTH, 3)
    # The chart: bars 18 px high, its legend's squares 12 x 12 px: more than a square's pixels of a color is
    # a bar. The learned and masked bars are wide; sample 0's padding bar is a few pixels wide.
    assert count_color(image, CHART["learned"]) > 1000
    assert count_color(image, CHART["masked"]) > 1000
    assert count_color(image, CHART["padding"]) >= 12 * 12 + 18
    # The clip pictures (image-rendering: pixelated keeps their colors exact): learned codes, stream BOS, delay
    # fills, red EOS cells, each far more pixels than the legend's 1em squares.
    assert count_color(image, CELLS[LEARNED][1]) > 10000
    for kind in (STREAM_BOS, DELAY_FILL, EOS_NOT_LEARNED):
        assert count_color(image, CELLS[kind][1]) > 1000, CELLS[kind][0]
