"""`fastcollate plan FILE`: lengths from every format it reads, the padding it reports, the picture it draws,
and exit 2 with one line for bad input."""

import json
import struct
import zlib

import numpy as np
import pytest

from fastcollate.__main__ import main
from fastcollate.packing.lengths_file import read_lengths
from fastcollate.packing.report import packing_report
from fastcollate.synthetic import voice_cloning_lengths


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB PNG without filters (what fastcollate writes) as an (H, W, 3) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height = size
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 3 * width)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


def test_report_of_the_voice_cloning_pool():
    tokens, audio = voice_cloning_lengths(4000)
    report = packing_report(tokens, 4096, batch_size=16, rows_per_batch=4, audio_lengths=audio)
    assert report.padded_text > 0.3 and report.padded_audio > 0.3
    assert report.packed_text < 0.02 and report.packed_audio < 0.02
    assert report.rows * 4096 >= tokens.sum() and report.dropped == 0


def test_npy_and_plot(tmp_path, capsys):
    tokens, audio = voice_cloning_lengths(2000)
    np.save(tmp_path / "pool.npy", np.stack([tokens, audio], axis=1))
    picture = tmp_path / "plan.png"
    assert main(["plan", str(tmp_path / "pool.npy"), "--rows-per-batch", "4", "--plot", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "2000 samples; random batches of 16 vs packed batches of 4 row(s) of at most 4096 tokens" in out
    assert "padding in (B, T): " in out and "padding in audio (B, T, K): " in out and "row fill: min" in out
    image = decode_png(picture.read_bytes())
    assert image.shape == (300, 640, 3)
    colors = {tuple(c) for c in image.reshape(-1, 3)}
    assert {(70, 110, 200), (170, 170, 170), (60, 160, 90)} <= colors  # fill histogram, padded and packed bars


def test_jsonl_lengths_input_ids_and_higgs_features(tmp_path):
    rows = [
        {"length": 30},
        {"input_ids": list(range(12))},
        {"input_ids": [1, 128016, 2, 128016], "audio_codes": [[[0] * 50] * 8, [[0] * 10] * 8]},
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n\n")
    tokens, audio = read_lengths(path)
    assert tokens.tolist() == [30, 12] and audio is None
    path.write_text(json.dumps(rows[2]) + "\n")
    tokens, audio = read_lengths(path)
    assert tokens.tolist() == [4 - 2 + (50 + 9) + (10 + 9)] and audio.tolist() == [(50 + 9) + (10 + 9)]


def test_datasets_folder(tmp_path, capsys):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"input_ids": [[1] * n for n in (5, 700, 30, 2000)]}).save_to_disk(tmp_path / "ds")
    tokens, audio = read_lengths(tmp_path / "ds")
    assert tokens.tolist() == [5, 700, 30, 2000] and audio is None
    assert main(["plan", str(tmp_path / "ds"), "--max-tokens", "2048", "--batch-size", "2"]) == 0
    assert "4 samples; random batches of 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file or folder"),
        ("not json\n", "line 1: not JSON"),
        ('{"other": 1}\n', "line 1: has neither 'length' nor 'input_ids'"),
        ('{"length": -3}\n', "line 1: length: expected an int >= 0, got -3"),
        ('{"length": 3, "audio_frames": 2}\n{"length": 4}\n', "some lines have audio frames and some not"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "data.jsonl"
    if content is not None:
        path.write_text(content)
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unknown_suffix_and_bad_array(tmp_path, capsys):
    (tmp_path / "x.parquet").write_bytes(b"")
    assert main(["plan", str(tmp_path / "x.parquet")]) == 2
    assert "unknown file type '.parquet'" in capsys.readouterr().err
    np.save(tmp_path / "bad.npy", np.zeros((2, 3), np.int64))
    assert main(["plan", str(tmp_path / "bad.npy")]) == 2
    assert "expected a 1-D array of lengths or an (N, 2) array, got shape (2, 3)" in capsys.readouterr().err


def test_the_documented_transcript_is_real(tmp_path, monkeypatch, capsys):
    """docs/guide/packing.md shows `fastcollate plan` on the voice-cloning pool of the benchmark: rerun it."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "packing.md").read_text()
    block = page.split("```\nfastcollate plan ", 1)[1].split("```", 1)[0].splitlines()
    argv, shown = block[0].split(), block[1:]
    monkeypatch.chdir(tmp_path)
    tokens, audio = voice_cloning_lengths(16_000)
    np.save(tmp_path / "pool.npy", np.stack([tokens, audio], axis=1))
    assert main(["plan", *argv]) == 0
    assert capsys.readouterr().out.splitlines() == shown


def test_dataset_lengths_counts_a_list_column_natively():
    datasets = pytest.importorskip("datasets")
    from fastcollate.packing import dataset_lengths

    ds = datasets.Dataset.from_dict({"input_ids": [[1] * n for n in (5, 0, 700, 3)], "other": [1, 2, 3, 4]})
    assert dataset_lengths(ds).tolist() == [5, 0, 700, 3] and dataset_lengths(ds).dtype == np.int64
    assert dataset_lengths(ds.select([2, 0])).tolist() == [700, 5]  # a selection reads its own rows
    with pytest.raises(ValueError, match="labels: no such column"):
        dataset_lengths(ds, "labels")
