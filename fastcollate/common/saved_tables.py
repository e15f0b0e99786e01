"""The tables users save, read a record batch at a time with pyarrow: Parquet, Arrow IPC files (the stream format
`datasets` and `pyarrow.ipc.new_stream` write, and the file format of `pyarrow.ipc.new_file`), and a folder
written by `datasets`' save_to_disk (one Dataset: state.json and data-*.arrow; or a DatasetDict: dataset_dict.json
and a folder per split).

Nothing is read whole: Arrow files are memory-mapped and walked batch by batch, Parquet is decoded a row group's
columns at a time, and only the columns asked for are decoded.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

ARROW_FILE_MAGIC = b"ARROW1"
TABLE_SUFFIXES = (".parquet", ".arrow")


class DecodedTooLarge(ValueError):
    """Decoding the columns asked for would take more than the bytes allowed; raised before decoding."""

    def __init__(self, file: Path, what: str, size: int, limit: int):
        self.file, self.what, self.size, self.limit = file, what, size, limit
        super().__init__(f"{file}: {what} {size:,} bytes, over the limit of {limit:,} bytes")


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


# ---------------------------------------------------------------------------------------------- Arrow IPC
# What a record batch decodes to is read from its message's metadata before any of it is decoded: the
# RecordBatch flatbuffer's row count and buffer list (offset, length in the body) and whether its body is
# compressed. An uncompressed body is memory-mapped, never copied; each buffer of a compressed body starts with
# its decompressed length (int64, -1 for a buffer stored as it is), which is what pyarrow allocates for it.


def _fb_table(buf: bytes, pos: int) -> tuple:
    """(position, vtable position, vtable size) of the flatbuffer table at pos."""
    vt = pos - struct.unpack_from("<i", buf, pos)[0]
    if not 0 <= vt <= len(buf) - 4:
        raise ValueError("a flatbuffer vtable outside the metadata")
    return pos, vt, struct.unpack_from("<H", buf, vt)[0]


def _fb_field(buf: bytes, table: tuple, i: int) -> Optional[int]:
    """The position of field i of a table, None when it is absent."""
    pos, vt, vt_size = table
    if 4 + 2 * i + 2 > vt_size:
        return None
    off = struct.unpack_from("<H", buf, vt + 4 + 2 * i)[0]
    return pos + off if off else None


def _fb_ref(buf: bytes, at: int) -> int:
    return at + struct.unpack_from("<I", buf, at)[0]


def _fb_structs(buf: bytes, table: tuple, i: int, fmt: str) -> list:
    """Field i of a table, a vector of structs, unpacked with fmt."""
    at = _fb_field(buf, table, i)
    if at is None:
        return []
    vec = _fb_ref(buf, at)
    n, size = struct.unpack_from("<I", buf, vec)[0], struct.calcsize(fmt)
    if vec + 4 + n * size > len(buf):
        raise ValueError("a flatbuffer vector past the end of the metadata")
    return [struct.unpack_from(fmt, buf, vec + 4 + k * size) for k in range(n)]


MESSAGE_DICTIONARY_BATCH, MESSAGE_RECORD_BATCH = 2, 3  # Message.header_type (Arrow's Message.fbs)


def _message_batch(message) -> tuple:
    """(kind, rows, decoded bytes, compressed) of one IPC message: kind "record" or "dictionary", or None for
    another message (the schema); the decoded bytes bound what pyarrow allocates to decode it."""
    buf = message.metadata.to_pybytes()
    root = _fb_table(buf, struct.unpack_from("<I", buf, 0)[0])
    at = _fb_field(buf, root, 1)
    header_type = 0 if at is None else buf[at]
    if header_type not in (MESSAGE_DICTIONARY_BATCH, MESSAGE_RECORD_BATCH):
        return None, 0, 0, False
    at = _fb_field(buf, root, 2)
    if at is None:
        raise ValueError("a batch message without its header")
    header = _fb_table(buf, _fb_ref(buf, at))
    if header_type == MESSAGE_DICTIONARY_BATCH:  # DictionaryBatch: id, data (a RecordBatch), isDelta
        at = _fb_field(buf, header, 1)
        if at is None:
            raise ValueError("a dictionary batch without its data")
        header = _fb_table(buf, _fb_ref(buf, at))
    at = _fb_field(buf, header, 0)  # RecordBatch: length, nodes, buffers, compression
    rows = 0 if at is None else struct.unpack_from("<q", buf, at)[0]
    buffers = _fb_structs(buf, header, 2, "<qq")
    body = message.body
    body_size = 0 if body is None else body.size
    if rows < 0 or any(off < 0 or length < 0 or off + length > body_size for off, length in buffers):
        raise ValueError("a record batch whose buffers lie outside its body")
    compressed = _fb_field(buf, header, 3) is not None
    if not compressed:  # the buffers are the body's bytes
        decoded = sum(length for _, length in buffers)
    else:
        decoded = 0
        for off, length in buffers:
            if length == 0:
                continue
            if length < 8:
                raise ValueError("a compressed buffer without its length")
            size = struct.unpack_from("<q", body.slice(off, 8).to_pybytes())[0]
            if size < -1:
                raise ValueError(f"a compressed buffer of length {size}")
            decoded += length - 8 if size == -1 else size
    return ("dictionary" if header_type == MESSAGE_DICTIONARY_BATCH else "record"), rows, decoded, compressed


def _arrow_scan(pa, file: Path) -> List[tuple]:
    """(kind, rows, decoded bytes, compressed) of every batch message pyarrow reads from an Arrow file, in its order: the
    stream's messages, or those the file format's footer names. Nothing is decoded."""
    source = pa.memory_map(str(file))
    try:
        if source.read(len(ARROW_FILE_MAGIC)) == ARROW_FILE_MAGIC:
            size = source.size()
            source.seek(size - 10)
            tail = source.read(10)
            if tail[4:] != ARROW_FILE_MAGIC:
                raise ValueError("no Arrow file footer")
            footer_size = struct.unpack_from("<i", tail, 0)[0]
            if not 0 < footer_size <= size - 10:
                raise ValueError(f"a footer of {footer_size} bytes")
            source.seek(size - 10 - footer_size)
            footer = source.read(footer_size)
            root = _fb_table(footer, struct.unpack_from("<I", footer, 0)[0])
            blocks = _fb_structs(footer, root, 2, "<qi4xq") + _fb_structs(footer, root, 3, "<qi4xq")
            out = []
            for offset, _, _ in blocks:
                if not 0 <= offset < size:
                    raise ValueError(f"a block at offset {offset}, outside the file")
                source.seek(offset)
                out.append(_message_batch(pa.ipc.read_message(source)))
            return out
        source.seek(0)
        return [_message_batch(m) for m in pa.ipc.MessageReader.open_stream(source)]
    except (struct.error, IndexError, OverflowError) as e:
        raise ValueError(f"{file}: not a readable Arrow file (its metadata: {e})") from None
    finally:
        source.close()


# ---------------------------------------------------------------------------------------------- Parquet


def _parquet_decoded(meta, schema, columns: Sequence[str]) -> List[int]:
    """Per row group, the bytes the columns asked for decode to, from the footer's column chunk metadata alone:
    each chunk's values at their Arrow width, validity bits and list offsets (a chunk's uncompressed size says
    little: run-length encoding packs millions of equal values into a few bytes)."""
    widths = {}
    for name in columns:
        t = schema.field(name).type
        value = t.value_type if hasattr(t, "value_type") else t
        offsets = 8 if str(t).startswith("large_list") else (4 if str(t).startswith("list") else 0)
        widths[name] = (math.ceil(getattr(value, "bit_width", 64) / 8) if str(value) != "null" else 0, offsets)
    sizes = []
    for g in range(meta.num_row_groups):
        group, total = meta.row_group(g), 0
        for j in range(group.num_columns):
            chunk = group.column(j)
            name = next((c for c in columns if chunk.path_in_schema.split(".")[0] == c), None)
            if name is None:
                continue
            width, offsets = widths[name]
            values, rows = chunk.num_values, group.num_rows
            estimate = values * width + math.ceil(values / 8) + (rows + 1) * offsets + math.ceil(rows / 8)
            total += max(estimate, chunk.total_uncompressed_size)
        sizes.append(total)
    return sizes


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

    def _arrow_reader(self, file: Path, fields: Optional[List[int]] = None):
        """(schema, its record batches); only the fields at the indices `fields` are decoded, when given."""
        pa = require_pyarrow(file, "an Arrow file")
        options = None if fields is None else pa.ipc.IpcReadOptions(included_fields=fields)
        source = pa.memory_map(str(file))
        if source.read(len(ARROW_FILE_MAGIC)) == ARROW_FILE_MAGIC:
            source.seek(0)
            reader = pa.ipc.open_file(source, options=options)
            return reader.schema, (reader.get_batch(i) for i in range(reader.num_record_batches))
        source.seek(0)
        reader = pa.ipc.open_stream(source, options=options)
        return reader.schema, iter(reader)

    def schema(self):
        """The Arrow schema (of the first file: `datasets` writes one schema in every shard)."""
        if self.kind == "parquet":
            require_pyarrow(self.path, "Parquet")
            import pyarrow.parquet as pq

            return pq.ParquetFile(str(self.files[0])).schema_arrow
        return self._arrow_reader(self.files[0])[0]

    def num_rows(self) -> int:
        """Rows in all: from the Parquet footer, or the Arrow batches' metadata (nothing is decoded)."""
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(str(self.files[0])).metadata.num_rows
        pa = require_pyarrow(self.path, "an Arrow file")
        return sum(rows for file in self.files for kind, rows, _, _ in _arrow_scan(pa, file) if kind == "record")

    def batches(self, columns: Sequence[str], batch_rows: int = 1024, max_bytes: Optional[int] = None) -> Iterator:
        """pyarrow RecordBatches of `columns` (present in the schema) in row order; only those columns are
        decoded. With `max_bytes`, DecodedTooLarge is raised before decoding past it (all the batches read, in
        all; a compressed Arrow body counts every column it holds, each buffer's decompressed size)."""
        used = 0
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            f = pq.ParquetFile(str(self.files[0]))
            for g, size in enumerate(_parquet_decoded(f.metadata, f.schema_arrow, columns)):
                used += size
                if max_bytes is not None and used > max_bytes:
                    raise DecodedTooLarge(
                        self.path, f"its columns decode to (row group {g} and before)", used, max_bytes
                    )
                yield from f.iter_batches(batch_size=batch_rows, columns=list(columns), row_groups=[g])
            return
        pa = require_pyarrow(self.path, "an Arrow file")
        for file in self.files:
            if max_bytes is not None:
                scan = _arrow_scan(pa, file)
                used += sum(decoded for _, _, decoded, _ in scan)
                if used > max_bytes:
                    what = "its record batches decode to"
                    if any(compressed for *_, compressed in scan):
                        what = (
                            "its compressed record batches decompress to (every column counted: a compressed body "
                            "is bounded before decompressing, all of it; written uncompressed, only the columns "
                            "read count)"
                        )
                    raise DecodedTooLarge(file, what, used, max_bytes)
            schema = self._arrow_reader(file)[0]
            indices = []
            for name in columns:
                found = schema.get_all_field_indices(name)
                if len(found) != 1:
                    what = "has no column" if not found else "has more than one column"
                    raise ValueError(f"{file}: {what} {name!r}" + ("" if found else f", unlike {self.path}'s first"))
                indices.append(found[0])
            _, batches = self._arrow_reader(file, sorted(indices))
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
