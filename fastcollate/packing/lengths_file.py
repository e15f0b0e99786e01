"""A dataset's lengths for `fastcollate plan`: the tokens each sample adds to a row and, for audio, its frames.

FILE formats:
    .npy    a 1-D array of lengths, or an (N, 2) array of (tokens, audio frames);
    .jsonl  one JSON object per line: the length column (default "length") or "input_ids" (counted); the
            audio column (default "audio_frames") or, in HiggsAudioV2Collator's features, "audio_codes" (one
            (K, L) list per <|AUDIO_OUT|>: the placeholder becomes L + K + 1 positions, as many audio frames);
    a folder written by `datasets`' save_to_disk: the same columns, read by Arrow without a Python loop for
            "input_ids".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..common.progress import progress


def _clip_positions(clips, where: str) -> int:
    """Row positions (= audio frames) of a feature's clips: L + K + 1 each."""
    total = 0
    for j, clip in enumerate(clips):
        if not (isinstance(clip, list) and clip and all(isinstance(row, list) for row in clip)):
            raise ValueError(f"{where}: audio_codes[{j}]: expected a (K, L) list of lists")
        total += len(clip[0]) + len(clip) + 1
    return total


def _from_row(row: dict, length_key: str, audio_key: str, where: str) -> Tuple[int, Optional[int]]:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    clips = row.get("audio_codes") or []
    if length_key in row:
        tokens = row[length_key]
    elif "input_ids" in row:
        tokens = len(row["input_ids"]) - len(clips) + _clip_positions(clips, where)
    else:
        raise ValueError(f"{where}: has neither {length_key!r} nor 'input_ids'")
    if audio_key in row:
        audio = row[audio_key]
    elif "audio_codes" in row:
        audio = _clip_positions(clips, where)
    else:
        audio = None
    for name, value in ((length_key, tokens), (audio_key, audio)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{where}: {name}: expected an int >= 0, got {value!r}")
    return tokens, audio


def _from_jsonl(path: Path, length_key: str, audio_key: str):
    tokens, audio = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(progress(f, None, path.name, "lines"), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}: line {n}: not JSON ({exc})") from None
            t, a = _from_row(row, length_key, audio_key, f"{path}: line {n}")
            tokens.append(t)
            audio.append(a)
    if any(a is None for a in audio) and any(a is not None for a in audio):
        raise ValueError(f"{path}: some lines have audio frames and some not")
    return np.array(tokens, dtype=np.int64), (None if not audio or audio[0] is None else np.array(audio, np.int64))


def dataset_lengths(dataset, column: str = "input_ids") -> np.ndarray:
    """The length of every row's `column` (a list column) of a `datasets.Dataset` or a pyarrow Table, int64: counted
    by Arrow in one native pass over the column's offsets, with no Python per row (PackingSampler's `lengths`
    for a dataset without a length column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = dataset if isinstance(dataset, pa.Table) else dataset.data.table
    if column not in table.column_names:
        raise ValueError(f"{column}: no such column (the dataset has {', '.join(table.column_names)})")
    lengths = np.asarray(pc.list_value_length(table.column(column)).to_numpy(zero_copy_only=False), dtype=np.int64)
    indices = getattr(dataset, "_indices", None)  # a select() or shuffle(): rows of the table, in this order
    return lengths if indices is None else lengths[np.asarray(indices.column(0).to_numpy(), dtype=np.int64)]


def _from_datasets(path: Path, length_key: str, audio_key: str):
    try:
        import datasets
    except ImportError:
        raise ValueError(f"{path}: a datasets folder needs the `datasets` package (pip install datasets)") from None
    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        raise ValueError(f"{path}: holds several splits ({', '.join(ds)}); give the folder of one")
    table = ds.data.table
    names = set(table.column_names)
    if "audio_codes" in names and length_key not in names:
        raise ValueError(f"{path}: Higgs features with audio_codes: add a {length_key!r} column (tokens per row)")
    if length_key in names:
        tokens = table.column(length_key).to_numpy()
    elif "input_ids" in names:
        tokens = dataset_lengths(table)
    else:
        raise ValueError(f"{path}: has neither a {length_key!r} nor an 'input_ids' column")
    audio = table.column(audio_key).to_numpy() if audio_key in names else None
    return np.asarray(tokens, dtype=np.int64), (None if audio is None else np.asarray(audio, dtype=np.int64))


def read_lengths(path, length_key: str = "length", audio_key: str = "audio_frames"):
    """(tokens, audio frames or None) of every sample in FILE (see the module docstring), int64 arrays."""
    path = Path(path)
    if path.is_dir():
        return _from_datasets(path, length_key, audio_key)
    if not path.is_file():
        raise ValueError(f"{path}: no such file or folder")
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        if array.ndim == 1:
            return array, None
        if array.ndim == 2 and array.shape[1] == 2:
            return array[:, 0], array[:, 1]
        raise ValueError(f"{path}: expected a 1-D array of lengths or an (N, 2) array, got shape {array.shape}")
    if path.suffix == ".jsonl":
        return _from_jsonl(path, length_key, audio_key)
    raise ValueError(f"{path}: unknown file type {path.suffix!r}; expected .npy, .jsonl or a datasets folder")
