"""The samples of one file for `python -m fastcollate inspect`.

.pt and .npz are read whole (inspect_files.py). .jsonl, .parquet, .arrow and a `datasets` save_to_disk folder
stream: a line or a record batch at a time, never the whole file in memory. A streamed file is read twice: once
to check every row and count the samples, so that bad input is reported (exit 2) before anything is printed,
and once to inspect the chosen samples. Both passes show a progress bar on stderr when it is a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Optional, TextIO, Tuple

from ..common.progress import Progress
from ..common.saved_tables import ChooseSplit, DecodedTooLarge, SavedTable, open_saved_table
from .inspect_files import (
    WHOLE_FILE_LOADERS,
    Budget,
    InputError,
    Limits,
    Sample,
    _keys,
    _label_key,
    parse_json_line,
    sample_from_row,
    too_many_bytes,
)

STREAMED_SUFFIXES = (".jsonl", ".parquet", ".arrow")
FILE_TYPES = sorted((*WHOLE_FILE_LOADERS, *STREAMED_SUFFIXES))
TABLE_ROWS = 256  # rows converted to Python at a time


class FileSamples:
    """The samples of a file: len(), each one's start_index, and the samples in order (again and again)."""

    path: Path
    audio: Optional[list] = None  # a Higgs Audio v2 batch's per sample audio summaries (a .pt), else None
    split: Optional[str] = None  # the DatasetDict split read
    starts: List[Optional[int]]

    def __len__(self) -> int:
        return len(self.starts)

    def samples(self, wanted: Optional[set] = None) -> Iterator[Tuple[int, Sample]]:
        """(index, sample) for every sample, or for those in `wanted`, in order."""
        raise NotImplementedError


class LoadedSamples(FileSamples):
    def __init__(self, path: Path, samples: List[Sample], audio):
        self.path, self._samples, self.audio = path, samples, audio
        self.starts = [s.start_index for s in samples]

    def samples(self, wanted=None):
        for i, s in enumerate(self._samples):
            if wanted is None or i in wanted:
                yield i, s


class StreamedSamples(FileSamples):
    """A file read row by row; the first pass (check()) runs when it is opened."""

    unit = "rows"

    def __init__(self, path: Path, limits: Limits):
        self.path, self.limits = path, limits

    def _read(self, budget: Budget, wanted: Optional[set], bar: Optional[Progress]) -> Iterator[Tuple[int, Sample]]:
        """The samples (all, or those in `wanted`); `bar` counts what is read (the first pass only)."""
        raise NotImplementedError

    def _total(self) -> Optional[int]:
        return None

    def check(self, err: Optional[TextIO]) -> None:
        """Reads every row within the limits, keeping only each sample's start_index."""
        with Progress(self._total(), f"reading {self.path.name}", self.unit, err) as bar:
            self.starts = [s.start_index for _, s in self._read(Budget(self.path, self.limits), None, bar)]
        if not self.starts:
            raise InputError(f"{self.path}: no samples found")

    def samples(self, wanted=None):
        # The first pass checked every row against the limits; this one reads the same rows, or fewer.
        yield from self._read(Budget(self.path, self.limits), wanted, None)


class JsonlSamples(StreamedSamples):
    unit = "bytes"

    def _total(self):
        return self.path.stat().st_size

    def _read(self, budget, wanted, bar):
        i = 0
        with open(self.path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if bar is not None:
                    bar.update(len(raw))
                if not raw.strip():
                    continue
                if wanted is None or i in wanted:
                    where = f"{self.path}:{lineno}: "
                    yield i, sample_from_row(parse_json_line(raw, where), where, budget)
                i += 1


def _is_int_list(pa, t) -> bool:
    lists = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list)
    return any(f(t) for f in lists) and pa.types.is_integer(t.value_type)


class TableSamples(StreamedSamples):
    """The rows of a Parquet file, an Arrow file or a save_to_disk folder: the columns of a .jsonl line."""

    def __init__(self, path: Path, limits: Limits, table: SavedTable):
        super().__init__(path, limits)
        self.table, self.split = table, table.split
        import pyarrow as pa

        schema = table.schema()
        names = schema.names
        if "input_ids" not in names:
            raise InputError(f"{path}: missing column 'input_ids' (columns: {_keys(names)})")
        self.label_key = _label_key(dict.fromkeys(names), str(path))
        for name in ["input_ids"] + ([self.label_key] if self.label_key else []):
            t = schema.field(name).type
            # A column of nulls only (labels None in every row) is read as such: no labels.
            if not _is_int_list(pa, t) and not (name != "input_ids" and pa.types.is_null(t)):
                raise InputError(f"{path}: column {name!r} holds {t}; expected lists of integer token ids")
        self.lists = [n for n in ("input_ids", self.label_key) if n and _is_int_list(pa, schema.field(n).type)]
        self.columns = self.lists + [n for n in (self.label_key, "start_index") if n in names and n not in self.lists]
        if "start_index" in names:
            t = schema.field("start_index").type
            if not (pa.types.is_integer(t) or pa.types.is_null(t)):
                raise InputError(f"{path}: column 'start_index' holds {t}; expected an int (or null) per row")

    def _total(self):
        return self.table.num_rows()

    def _read(self, budget, wanted, bar):
        try:
            yield from self._read_batches(budget, wanted, bar)
        except DecodedTooLarge as e:
            raise InputError(too_many_bytes(e.file, e.what, self.limits, e.size)) from None

    def _read_batches(self, budget, wanted, bar):
        i, loaded = 0, 0
        first = min(wanted) if wanted else 0
        last = max(wanted) if wanted else None
        for batch in self.table.batches(self.columns, TABLE_ROWS, self.limits.max_bytes):
            n = batch.num_rows
            if last is not None and i > last:
                return
            if i + n > first and (wanted is None or any(i <= w < i + n for w in wanted)):
                loaded += batch.nbytes
                if loaded > self.limits.max_bytes:
                    raise InputError(too_many_bytes(self.path, "the record batches read hold", self.limits, loaded))
                where = f"{self.path}: rows {i}..{i + n - 1}: "
                budget.check(n + sum(len(batch.column(c).flatten()) for c in self.lists), where.rstrip(": "))
                for j, row in enumerate(batch.to_pylist()):
                    if wanted is None or i + j in wanted:
                        yield i + j, sample_from_row(row, f"{self.path}: row {i + j}: ", budget, "a row")
            if bar is not None:
                bar.update(n)
            i += n


def open_file(path, limits: Optional[Limits] = None, split: Optional[str] = None, err: Optional[TextIO] = None):
    """The samples of FILE (formats: inspect_cli.py), checked within the limits; InputError on bad input."""
    path, limits = Path(path), Limits() if limits is None else limits
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file" + ("" if suffix else " or folder"))
    if not path.is_dir() and suffix not in FILE_TYPES:
        raise InputError(
            f"{path}: unknown file type {suffix!r}; expected one of {FILE_TYPES} or a folder written by "
            "datasets' save_to_disk"
        )
    if split is not None and not path.is_dir():
        raise InputError(f"--split {split}: {path} is a file; --split chooses a split of a DatasetDict folder")
    try:
        if path.is_dir() or suffix in (".parquet", ".arrow"):
            try:
                table = open_saved_table(path, split)
            except ChooseSplit as e:
                raise InputError(f"{e} with --split NAME") from None
            except ValueError as e:
                raise InputError(str(e)) from None
            size = table.size
            if size > limits.max_bytes:
                raise InputError(
                    too_many_bytes(
                        path, "its data files have" if table.kind == "datasets" else "the file has", limits, size
                    )
                )
            source = TableSamples(path, limits, table)
        else:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise InputError(too_many_bytes(path, "the file has", limits, size))
            if suffix == ".jsonl":
                source = JsonlSamples(path, limits)
            else:
                samples, audio = WHOLE_FILE_LOADERS[suffix](path, limits, Budget(path, limits))
                if not samples:
                    raise InputError(f"{path}: no samples found")
                return LoadedSamples(path, samples, audio)
        source.check(err)
        return source
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
