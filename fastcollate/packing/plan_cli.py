"""`fastcollate plan FILE`: how much padding packing saves on a dataset, before training.

Reads the dataset's lengths (fastcollate/packing/lengths_file.py: .npy, .jsonl or a `datasets` save_to_disk
folder), then prints the padding of random batches of --batch-size against PackingSampler's batches of
--rows-per-batch rows of at most --max-tokens, in (B, T) and, with audio frames, in (B, T, K), and the rows'
fill. --plot FILE.png draws the fill histogram and the padding bars.

Exit status: 0, or 2 for bad input (one line on stderr).
"""

from __future__ import annotations

import sys

import numpy as np

from ..common.png import draw_text, png_bytes
from .lengths_file import read_lengths
from .report import PackingReport, packing_report

PARSER_KWARGS = dict(
    help="padding of random batches vs packed batches, from a dataset's lengths",
    description=__doc__.split("\n\n")[1],
)


def add_arguments(parser) -> None:
    parser.add_argument("file", help=".npy, .jsonl or a datasets save_to_disk folder")
    parser.add_argument("--max-tokens", type=int, default=4096, help="a packed row's tokens (default 4096)")
    parser.add_argument("--batch-size", type=int, default=16, help="samples per random padded batch (default 16)")
    parser.add_argument("--rows-per-batch", type=int, default=1, help="packed rows per batch (default 1)")
    parser.add_argument("--max-audio-frames", type=int, default=None, help="a row's audio frames (default: max-tokens)")
    parser.add_argument("--length-column", default="length", help="the tokens column (default: length, else input_ids)")
    parser.add_argument("--audio-column", default="audio_frames", help="the audio frames column (default audio_frames)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE.png", help="write a picture of the row fill and the padding")


def plot(report: PackingReport, path: str) -> None:
    """The rows' fill histogram (left) and the padding bars, padded in grey and packed in green (right)."""
    height, width = 300, 640
    image = np.full((height, width, 3), 255, np.uint8)
    ink, grey, green, blue = (40, 40, 40), (170, 170, 170), (60, 160, 90), (70, 110, 200)
    # Histogram: 50 bins of 2% of max_tokens, from 0% to 100% fill.
    left, bottom, plot_w, plot_h = 40, 260, 400, 220
    counts, _ = np.histogram(np.clip(report.row_fill, 0, 1), bins=50, range=(0, 1))
    top = max(int(counts.max()), 1)
    for b, c in enumerate(counts):
        h = int(round(c / top * plot_h))
        image[bottom - h : bottom, left + b * 8 : left + b * 8 + 7] = blue
    image[bottom : bottom + 2, left : left + plot_w] = ink
    for fraction in (0, 50, 100):
        draw_text(image, f"{fraction}%", left + fraction * 4 - 8, bottom + 8, ink)
    draw_text(image, str(top), 4, bottom - plot_h, ink)
    draw_text(image, "ROWS BY FILL", left + 8, 12, ink)
    # Padding bars: text, then audio when known.
    bars = [(report.padded_text, report.packed_text)]
    if report.padded_audio is not None:
        bars.append((report.padded_audio, report.packed_audio))
    x = 480
    for (padded, packed), name in zip(bars, ("TEXT", "AUDIO")):
        draw_text(image, name, x, bottom + 8, ink)
        for value, color in ((padded, grey), (packed, green)):
            h = max(int(round(value * plot_h)), 1)
            image[bottom - h : bottom, x : x + 30] = color
            draw_text(image, f"{value * 100:.0f}%", x, bottom - h - 14, ink)
            x += 36
        x += 12
    image[bottom : bottom + 2, 470 : width - 10] = ink
    for k, (name, color) in enumerate((("PADDED", grey), ("PACKED", green))):
        image[12 + 16 * k : 22 + 16 * k, 480:490] = color
        draw_text(image, name, 496, 12 + 16 * k, ink)
    with open(path, "wb") as f:
        f.write(png_bytes(image))


def run(args) -> int:
    try:
        tokens, audio = read_lengths(args.file, args.length_column, args.audio_column)
        report = packing_report(
            tokens,
            args.max_tokens,
            batch_size=args.batch_size,
            rows_per_batch=args.rows_per_batch,
            audio_lengths=audio,
            max_audio_frames=args.max_audio_frames,
            seed=args.seed,
        )
    except (ValueError, OSError) as exc:
        print(f"{args.prog}: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    if args.plot:
        plot(report, args.plot)
        print(f"wrote {args.plot}")
    return 0
