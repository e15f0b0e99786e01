"""The README's clip picture (docs/images/clip_labels.png) is what its command draws now, pixel for pixel:
`python -m fastcollate.diagnostics.readme_picture docs/images/clip_labels.png` regenerates it."""

from pathlib import Path

import numpy as np
import pytest
from png_read import count_color, read_png

from fastcollate.diagnostics import readme_picture
from fastcollate.diagnostics.clip_picture import CELLS, EOS_LEARNED, EOS_NOT_LEARNED, NO_TRAIN

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "images" / "clip_labels.png"
# The wheel job runs the suite from a copy of tests/, with no source tree beside it.
pytestmark = pytest.mark.skipif(not (ROOT / "CMakeLists.txt").is_file(), reason="needs the source tree")


def test_committed_picture_is_what_the_command_draws(tmp_path):
    out = tmp_path / "clip_labels.png"
    assert readme_picture.main([str(out)]) == 0
    drawn = read_png(out.read_bytes())
    committed = read_png(COMMITTED.read_bytes())
    assert committed.shape == drawn.shape and np.array_equal(committed, drawn), (
        "docs/images/clip_labels.png is stale: run "
        "`python -m fastcollate.diagnostics.readme_picture docs/images/clip_labels.png` and commit it"
    )


def test_picture_shows_what_each_mode_trains():
    image = readme_picture.picture()
    # The processor's clips never learn their EOS; the correct mode's reference voice is no-train, and its
    # target learns the EOS in all 8 codebooks. Each legend square holds 8 x 8 pixels of its color (in a frame).
    square = 8 * 8
    assert (
        count_color(image, CELLS[EOS_NOT_LEARNED][1]) == square + 2 * 8 * readme_picture.CELL_W * readme_picture.CELL_H
    )
    assert count_color(image, CELLS[EOS_LEARNED][1]) == square + 8 * readme_picture.CELL_W * readme_picture.CELL_H
    assert count_color(image, CELLS[NO_TRAIN][1]) > square + 8 * readme_picture.REFERENCE * readme_picture.CELL_W
