"""The tables users save, read a record batch at a time with pyarrow: Parquet, Arrow IPC files (the stream format
`datasets` and `pyarrow.ipc.new_stream` write, and the file format of `pyarrow.ipc.new_file`), and a folder
written by `datasets`' save_to_disk (one Dataset: state.json and data-*.arrow; or a DatasetDict: dataset_dict.json
and a folder per split).

Nothing is read whole: Arrow files are memory-mapped and walked batch by batch, Parquet is decoded a row group's
columns at a time, and only the columns asked for are decoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

ARROW_FILE_MAGIC = b"ARROW1"
TABLE_SUFFIXES = (".parquet", ".arrow")


class ChooseSplit(ValueError):
    """A DatasetDict folder with several splits and none chosen (or one it does not have)."""

    def __init__(self, path: Path, splits: Sequence[str], asked: Optional[str]):
        self.path, self.splits, self.asked = path, list(splits), asked
        names = ", ".join(repr(s) for s in self.splits)
        if asked is None:
            super().__init__(f"{path}: a DatasetDict folder with the splits {names}; choose one")
        else:
            super().__init__(
                f"{path}: a DatasetDict folder with the splits {names}, and no split {asked!r}; choose one"
            )


def require_pyarrow(path, what: str):
    """pyarrow, or a ValueError that says which package to install."""
    try:
        import pyarrow

        return pyarrow
    except ImportError:
        raise ValueError(
            f"{path}: reading {what} needs the pyarrow package, which is not installed (pip install pyarrow)"
        ) from None


def is_dataset_folder(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in ("state.json", "dataset_dict.json"))


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a readable JSON file ({e})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def dataset_folder_files(path: Path, split: Optional[str] = None):
    """(the Arrow files of a save_to_disk folder in row order, the split read or None). A DatasetDict folder
    needs `split` unless it has exactly one; a Dataset folder must not be given one."""
    if (path / "dataset_dict.json").is_file():
        splits = _read_json(path / "dataset_dict.json").get("splits")
        if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits) or not splits:
            raise ValueError(f"{path / 'dataset_dict.json'}: expected {{'splits': [names]}}, got {splits!r}")
        if split is None and len(splits) == 1:
            split = splits[0]
        if split is None or split not in splits:
            raise ChooseSplit(path, splits, split)
        # A split is a folder of this one holding a saved Dataset: never a path elsewhere ("../other",
        # "/data") nor this folder itself ("."), and never another DatasetDict (no recursion).
        if Path(split).name != split or split in ("", ".", ".."):
            raise ValueError(f"{path / 'dataset_dict.json'}: split {split!r} is not a folder name in this folder")
        if not (path / split / "state.json").is_file():
            raise ValueError(
                f"{path}: split {split!r} has no saved Dataset (no {split}/state.json written by save_to_disk)"
            )
        files, _ = _dataset_files(path / split)
        return files, split
    if not (path / "state.json").is_file():
        raise ValueError(
            f"{path}: a folder, but not one written by datasets' save_to_disk (it has neither state.json nor "
            "dataset_dict.json)"
        )
    if split is not None:
        raise ValueError(f"{path}: one saved Dataset, not a DatasetDict: it has no splits to choose from")
    return _dataset_files(path)


def _dataset_files(path: Path):
    """The Arrow files of a saved Dataset's folder (it holds state.json), in row order, and None."""
    entries = _read_json(path / "state.json").get("_data_files")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "filename" in e for e in entries):
        raise ValueError(f"{path / 'state.json'}: expected '_data_files': [{{'filename': ...}}, ...]")
    if not entries:
        raise ValueError(f"{path / 'state.json'}: '_data_files' lists no data file")
    files = []
    for e in entries:
        name = e["filename"]
        # A state.json names files in its own folder, never elsewhere.
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"{path / 'state.json'}: data file {name!r} is not a file name in this folder")
        if not (path / name).is_file():
            raise ValueError(f"{path}: state.json names {name!r}, which is missing")
        files.append(path / name)
    return files, None


@dataclass
class SavedTable:
    """One Parquet file, one Arrow file, or the Arrow files of a save_to_disk folder, read in record batches."""

    path: Path  # what the user named
    files: List[Path]
    kind: str  # "parquet", "arrow" or "datasets"
    split: Optional[str] = None

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return sum(f.stat().st_size for f in self.files)

    def _arrow_reader(self, file: Path):
        pa = require_pyarrow(file, "an Arrow file")
        source = pa.memory_map(str(file))
        if source.read(len(ARROW_FILE_MAGIC)) == ARROW_FILE_MAGIC:
            source.seek(0)
            reader = pa.ipc.open_file(source)
            return reader.schema, (reader.get_batch(i) for i in range(reader.num_record_batches))
        source.seek(0)
        reader = pa.ipc.open_stream(source)
        return reader.schema, iter(reader)

    def schema(self):
        """The Arrow schema (of the first file: `datasets` writes one schema in every shard)."""
        if self.kind == "parquet":
            require_pyarrow(self.path, "Parquet")
            import pyarrow.parquet as pq

            return pq.ParquetFile(str(self.files[0])).schema_arrow
        return self._arrow_reader(self.files[0])[0]

    def num_rows(self) -> int:
        """Rows in all: from the Parquet footer, or the Arrow batches' headers (memory-mapped, no data read)."""
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(str(self.files[0])).metadata.num_rows
        return sum(batch.num_rows for file in self.files for batch in self._arrow_reader(file)[1])

    def batches(self, columns: Sequence[str], batch_rows: int = 1024) -> Iterator:
        """pyarrow RecordBatches of `columns` (present in the schema) in row order."""
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(str(self.files[0])).iter_batches(batch_size=batch_rows, columns=list(columns))
            return
        for file in self.files:
            schema, batches = self._arrow_reader(file)
            if set(columns) - set(schema.names):
                missing = sorted(set(columns) - set(schema.names))
                raise ValueError(f"{file}: has no column {missing[0]!r}, unlike the first file of {self.path}")
            for batch in batches:
                batch = batch.select(list(columns))
                for start in range(0, batch.num_rows, batch_rows):
                    yield batch.slice(start, batch_rows)


def open_saved_table(path, split: Optional[str] = None) -> SavedTable:
    """A .parquet file, an .arrow file, or a save_to_disk folder (`split`: a DatasetDict's split); ValueError
    for anything else, or when pyarrow is missing."""
    path = Path(path)
    if path.is_dir():
        files, split = dataset_folder_files(path, split)
        require_pyarrow(path, "a datasets folder")
        return SavedTable(path, files, "datasets", split)
    if split is not None:
        raise ValueError(f"{path}: a split is chosen in a DatasetDict folder, not in a file")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: not a .parquet or .arrow file")
    require_pyarrow(path, "Parquet" if suffix == ".parquet" else "an Arrow file")
    return SavedTable(path, [path], suffix[1:])
