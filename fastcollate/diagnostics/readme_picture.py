"""The README's clip picture: one voice-cloning sample's two clips under both HiggsAudioV2Collator label modes.

    python -m fastcollate.diagnostics.readme_picture docs/images/clip_labels.png

regenerates docs/images/clip_labels.png (tests/diagnostics/test_readme_picture.py holds the committed file to
what this draws now). The sample: a system prompt, a user transcript, the assistant's reference voice (turn 2,
context: start_index=3), a user text and the assistant's target speech; a second, longer sample pads the batch.
The processor's labels train the reference voice and never the stream EOS; label_mode="correct" learns only the
target clip, its EOS included.
"""

from __future__ import annotations

import sys
from typing import List

import numpy as np
import torch

from ..common.png import draw_text, png_bytes
from ..higgs_hf import HiggsAudioV2Collator
from .clip_picture import (
    CELLS,
    DELAY_FILL,
    EOS_LEARNED,
    EOS_NOT_LEARNED,
    LEARNED,
    NO_TRAIN,
    PADDING,
    STREAM_BOS,
    cells_rgb,
    clips_of,
)

SYSTEM = [128000, 128006, 9125, 128007, 271, 10, 11, 128009]
USER = [128006, 882, 128007, 271, 12, 13, 128009]
ASSISTANT_SPEECH = [128006, 78191, 128007, 271, 128013, 128016, 128012, 128009]
CHAT = SYSTEM + USER + ASSISTANT_SPEECH + USER + ASSISTANT_SPEECH  # turns 0..4: the reference voice is turn 2
K, REFERENCE, TARGET, LONGER_TARGET = 8, 24, 32, 38
CELL_W, CELL_H, SCALE = 8, 6, 2
LEGEND = [
    (LEARNED, "LEARNED CODE"),
    (NO_TRAIN, "MASKED CODE"),
    (STREAM_BOS, "STREAM BOS"),
    (EOS_LEARNED, "EOS LEARNED"),
    (EOS_NOT_LEARNED, "EOS NOT LEARNED"),
    (DELAY_FILL, "DELAY FILL"),
    (PADDING, "PADDING"),
]


def _codes(length: int) -> torch.Tensor:
    return (torch.arange(K * length, dtype=torch.int64) % 1000).view(K, length)


def batches() -> dict:
    """The two-sample batch under each label mode."""
    features = [
        {"input_ids": CHAT, "audio_codes": [_codes(REFERENCE), _codes(TARGET)]},
        {"input_ids": CHAT, "audio_codes": [_codes(REFERENCE), _codes(LONGER_TARGET)]},
    ]
    correct = [dict(f, start_index=3) for f in features]
    return {
        "LABEL MODE PROCESSOR": HiggsAudioV2Collator(pad_token_id=128001, label_mode="processor")(features),
        "LABEL MODE CORRECT": HiggsAudioV2Collator(pad_token_id=128001, label_mode="correct")(correct),
    }


def picture() -> np.ndarray:
    """(H, W, 3) uint8: for each mode, sample 0's reference voice and target clip, then a legend."""
    glyph_h = 5 * SCALE
    blocks: List[tuple] = []  # (caption, cells)
    for mode, batch in batches().items():
        reference, target = [c for c in clips_of(batch) if c.sample == 0]
        blocks.append((f"{mode}: REFERENCE VOICE", reference.cells))
        blocks.append((f"{mode}: TARGET SPEECH", target.cells))
    frames = max(cells.shape[1] for _, cells in blocks)
    margin = 10
    width = max(margin * 2 + frames * CELL_W, 560)
    legend_rows = (len(LEGEND) + 1) // 2
    height = margin + len(blocks) * (glyph_h + 6 + K * CELL_H + 12) + legend_rows * (glyph_h + 8) + margin
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    y = margin
    for caption, cells in blocks:
        draw_text(image, caption, margin, y, (0, 0, 0), SCALE)
        y += glyph_h + 6
        rgb = cells_rgb(cells, CELL_W, CELL_H)
        image[y : y + rgb.shape[0], margin : margin + rgb.shape[1]] = rgb
        y += rgb.shape[0] + 12
    for n, (kind, name) in enumerate(LEGEND):
        x = margin + (n % 2) * (width // 2)
        yy = y + (n // 2) * (glyph_h + 8)
        image[yy : yy + glyph_h, x : x + glyph_h] = CELLS[kind][1]
        image[yy : yy + glyph_h, x] = image[yy : yy + glyph_h, x + glyph_h - 1] = (90, 90, 90)
        image[yy, x : x + glyph_h] = image[yy + glyph_h - 1, x : x + glyph_h] = (90, 90, 90)
        draw_text(image, name, x + glyph_h + 6, yy, (0, 0, 0), SCALE)
    return image


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m fastcollate.diagnostics.readme_picture OUT.png", file=sys.stderr)
        return 2
    with open(argv[0], "wb") as f:
        f.write(png_bytes(picture()))
    print(f"wrote {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
