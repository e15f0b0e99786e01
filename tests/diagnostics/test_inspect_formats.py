"""`python -m fastcollate inspect` reads what users save: Parquet, Arrow IPC (stream and file), a `datasets`
save_to_disk folder (a Dataset, or a DatasetDict's split), .jsonl, .pt and .npz all give the same report; large
files stream (a record batch or a line at a time) with a progress bar on a terminal's stderr only."""

import json
import os
import pty
import select
import subprocess
import sys
import tempfile
import tracemalloc
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from inspect_run import PREFIX, inspect

from fastcollate.common.progress import Progress
from fastcollate.synthetic import IGNORE, synthetic_text_batch


def rows(n=4, seed=0):
    """Llama-3 chats with the llama3 spec's labels; sample 1's labels all -100, sample 2 without labels."""
    out = []
    for i, s in enumerate(synthetic_text_batch(n, 48, exchanges=1, seed=seed)):
        ids, labels = s.input_ids.tolist(), s.label_ids.tolist()
        out.append({"input_ids": ids, "labels": [IGNORE] * len(ids) if i == 1 else (None if i == 2 else labels)})
    return out


def table_of(records, start_index=False):
    columns = {
        "input_ids": pa.array([r["input_ids"] for r in records], pa.list_(pa.int32())),
        "labels": pa.array([r["labels"] for r in records], pa.list_(pa.int64())),
    }
    if start_index:
        columns["start_index"] = pa.array([r.get("start_index") for r in records], pa.int64())
    columns["text"] = pa.array(["never read"] * len(records))  # another column: not decoded
    return pa.table(columns)


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n")
    return path


def write_arrow(path, table, file_format=False, max_chunksize=None):
    with pa.OSFile(str(path), "wb") as sink:
        writer = (pa.ipc.new_file if file_format else pa.ipc.new_stream)(sink, table.schema)
        writer.write_table(table, max_chunksize=max_chunksize)
        writer.close()
    return path


def same_report(out, path, reference_out, reference_path):
    return out.replace(str(path), "FILE") == reference_out.replace(str(reference_path), "FILE")


# ------------------------------------------------------------------------------------------------ formats


def test_every_format_gives_the_jsonl_report(tmp_path, capsys):
    records = rows()
    reference = write_jsonl(tmp_path / "a.jsonl", records)
    rc, expected, err = inspect(capsys, reference)
    assert rc == 1 and err == ""
    assert "a.jsonl: 4 samples;" in expected and "sample 1: given labels are ALL -100" in expected
    assert "sample 2: no labels given; the spec learns" in expected
    assert "2 of 3 with labels match the spec, 1 without labels (not compared)" in expected

    table = table_of(records)
    pq.write_table(table, tmp_path / "a.parquet")
    write_arrow(tmp_path / "stream.arrow", table)
    write_arrow(tmp_path / "file.arrow", table, file_format=True)
    padded = max(len(r["input_ids"]) for r in records) + 3
    ids = torch.full((4, padded), 128004)
    labels = torch.full((4, padded), IGNORE)
    mask = torch.zeros((4, padded), dtype=torch.long)
    for i, r in enumerate(records):
        n = len(r["input_ids"])
        ids[i, :n], mask[i, :n] = torch.tensor(r["input_ids"]), 1
        labels[i, :n] = torch.tensor(r["labels"] if r["labels"] is not None else [IGNORE] * n)
    per_sample = [dict(input_ids=torch.tensor(r["input_ids"])) for r in records]
    for d, r in zip(per_sample, records):
        if r["labels"] is not None:
            d["labels"] = torch.tensor(r["labels"])
    torch.save(per_sample, tmp_path / "a.pt")
    for path in (tmp_path / "a.parquet", tmp_path / "stream.arrow", tmp_path / "file.arrow", tmp_path / "a.pt"):
        rc2, out, err = inspect(capsys, path)
        assert (rc2, err) == (rc, ""), (path, err)
        assert same_report(out, path, expected, reference), path
    # .npz and a padded .pt cannot leave one sample without labels: sample 2's are the spec's there.
    np.savez(tmp_path / "a.npz", input_ids=ids.numpy(), labels=labels.numpy(), attention_mask=mask.numpy())
    rc, out, _ = inspect(capsys, tmp_path / "a.npz", "--sample", 1)
    assert rc == 1 and "sample 1: given labels are ALL -100" in out


def test_datasets_save_to_disk_dataset_and_dataset_dict(tmp_path, capsys):
    datasets = pytest.importorskip("datasets")
    records = rows(6)
    reference = write_jsonl(tmp_path / "a.jsonl", records)
    rc, expected, _ = inspect(capsys, reference)
    ds = datasets.Dataset.from_list([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in records])
    ds.save_to_disk(str(tmp_path / "one"), num_shards=3)  # three data-*.arrow files, read in order
    assert len(list((tmp_path / "one").glob("data-*.arrow"))) == 3
    capsys.readouterr()  # datasets' own progress bars
    rc2, out, err = inspect(capsys, tmp_path / "one")
    assert (rc2, err) == (rc, "") and same_report(out, tmp_path / "one", expected, reference)

    pairs = datasets.DatasetDict(train=ds, test=ds.select([1, 0]))
    pairs.save_to_disk(str(tmp_path / "dict"))
    capsys.readouterr()
    rc, out, err = inspect(capsys, tmp_path / "dict")
    assert rc == 2 and out == ""
    assert err == (
        f"{PREFIX}{tmp_path / 'dict'}: a DatasetDict folder with the splits 'train', 'test'; choose one with "
        "--split NAME\n"
    )
    rc, out, err = inspect(capsys, tmp_path / "dict", "--split", "validation")
    assert rc == 2 and "'train', 'test', and no split 'validation'; choose one with --split NAME" in err
    rc, out, err = inspect(capsys, tmp_path / "dict", "--split", "test")
    assert rc == 1 and err == ""
    assert f"{tmp_path / 'dict'} (split 'test'): 2 samples;" in out
    assert "sample 0: given labels are ALL -100" in out  # the train split's sample 1
    assert "sample 1: OK, given labels match the spec" in out
    rc, out, _ = inspect(capsys, tmp_path / "dict", "--split", "train")
    assert rc == 1 and "(split 'train'): 6 samples;" in out
    # One split: read without --split. --split on a file or a single Dataset is bad input.
    datasets.DatasetDict(train=ds).save_to_disk(str(tmp_path / "single"))
    capsys.readouterr()
    rc, out, _ = inspect(capsys, tmp_path / "single")
    assert rc == 1 and "(split 'train'): 6 samples;" in out
    assert (
        "one saved Dataset, not a DatasetDict: it has no splits" in inspect(capsys, tmp_path / "one", "--split", "x")[2]
    )
    assert "is a file; --split chooses a split" in inspect(capsys, reference, "--split", "train")[2]


def test_a_column_of_null_labels_is_no_labels(tmp_path, capsys):
    records = rows(2)
    table = pa.table({"input_ids": pa.array([r["input_ids"] for r in records]), "labels": pa.nulls(2)})
    pq.write_table(table, tmp_path / "n.parquet")
    rc, out, err = inspect(capsys, tmp_path / "n.parquet")
    assert (rc, err) == (0, "") and "result: no labels given, nothing compared; the spec learns" in out


def test_start_index_column(tmp_path, capsys):
    (s,) = synthetic_text_batch(1, 80, exchanges=2, seed=0)
    from fastcollate import presets
    from fastcollate.rolespan.reference import mask_labels_reference

    ids = s.input_ids.tolist()
    records = [
        {"input_ids": ids, "labels": mask_labels_reference(ids, presets.llama3(), 3).tolist(), "start_index": 3},
        {"input_ids": ids, "labels": s.label_ids.tolist(), "start_index": None},
    ]
    pq.write_table(table_of(records, start_index=True), tmp_path / "s.parquet")
    rc, out, _ = inspect(capsys, tmp_path / "s.parquet")
    assert rc == 0 and "start_index=3" in out and "2 of 2 with labels match the spec" in out


@pytest.mark.parametrize(
    "table, message",
    [
        (pa.table({"labels": pa.array([[1]])}), "missing column 'input_ids' (columns: ['labels'])"),
        (pa.table({"input_ids": pa.array(["some text"])}), "column 'input_ids' holds string; expected lists of"),
        (
            pa.table({"input_ids": pa.array([[1.5]])}),
            "double>; expected lists of integer token ids",
        ),
        (pa.table({"input_ids": pa.array([[1]]), "labels": pa.array([[1]]), "label_ids": pa.array([[1]])}), "keep one"),
        (pa.table({"input_ids": pa.array([[1, 2]]), "labels": pa.array([[1]])}), "row 0: labels has 1 tokens"),
        (pa.table({"input_ids": pa.array([[1], None])}), "row 1: input_ids: expected a list of ints"),
        (pa.table({"input_ids": pa.nulls(1)}), "column 'input_ids' holds null; expected lists of integer token ids"),
        (pa.table({"input_ids": pa.array([[1]]), "start_index": pa.array(["x"])}), "column 'start_index' holds"),
        (pa.table({"input_ids": pa.array([], pa.list_(pa.int64()))}), "no samples found"),
    ],
    ids=["no_ids", "text", "floats", "both_labels", "lengths", "null_ids", "null_column", "start_index", "empty"],
)
def test_bad_tables_exit_2(tmp_path, capsys, table, message):
    for path in (tmp_path / "bad.parquet", tmp_path / "bad.arrow"):
        if path.suffix == ".parquet":
            pq.write_table(table, path)
        else:
            write_arrow(path, table)
        rc, out, err = inspect(capsys, path)
        assert (rc, out) == (2, ""), (path, out)
        assert err.startswith(PREFIX) and err.count("\n") == 1 and path.name in err and message in err, err


def test_bad_folders_and_files_exit_2(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    rc, _, err = inspect(capsys, tmp_path / "plain")
    assert rc == 2 and "a folder, but not one written by datasets' save_to_disk" in err
    (tmp_path / "lost").mkdir()
    (tmp_path / "lost" / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-0.arrow"}]}))
    assert "state.json names 'data-0.arrow', which is missing" in inspect(capsys, tmp_path / "lost")[2]
    (tmp_path / "lost" / "state.json").write_text(json.dumps({"_data_files": [{"filename": "../x.arrow"}]}))
    assert "is not a file name in this folder" in inspect(capsys, tmp_path / "lost")[2]
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    rc, out, err = inspect(capsys, tmp_path / "junk.parquet")
    assert (rc, out) == (2, "") and "junk.parquet: cannot read this file: " in err
    rc, _, err = inspect(capsys, tmp_path / "nowhere")
    assert rc == 2 and "nowhere: no such file or folder" in err


@pytest.mark.parametrize(
    "state, message",
    [
        ({"splits": ["../one"]}, "dataset_dict.json: split '../one' is not a folder name in this folder"),
        ({"splits": ["."]}, "dataset_dict.json: split '.' is not a folder name in this folder"),
        ({"splits": [".."]}, "dataset_dict.json: split '..' is not a folder name in this folder"),
        ({"splits": ["inner"]}, "split 'inner' has no saved Dataset (no inner/state.json"),
        ({"_data_files": []}, "state.json: '_data_files' lists no data file"),
    ],
    ids=["parent", "itself", "dotdot", "nested_dict", "no_files"],
)
def test_dataset_folder_names_only_its_own_files(tmp_path, capsys, state, message):
    """A DatasetDict's split is a folder in it holding a saved Dataset; a Dataset lists at least one file."""
    write_arrow(tmp_path / "data-0.arrow", table_of(rows(2)))
    (tmp_path / "one").mkdir()  # a readable Dataset beside the folder: never read through it
    (tmp_path / "one" / "data-0.arrow").write_bytes((tmp_path / "data-0.arrow").read_bytes())
    (tmp_path / "one" / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-0.arrow"}]}))
    assert inspect(capsys, tmp_path / "one")[0] == 1
    folder = tmp_path / "hostile"
    folder.mkdir()
    name = "dataset_dict.json" if "splits" in state else "state.json"
    (folder / name).write_text(json.dumps(state))
    (folder / "inner").mkdir()  # a DatasetDict inside a DatasetDict: a split of splits, never read
    (folder / "inner" / "dataset_dict.json").write_text(json.dumps({"splits": ["inner"]}))
    rc, out, err = inspect(capsys, folder)
    assert (rc, out) == (2, ""), (rc, out, err)
    assert err.startswith(PREFIX) and err.count("\n") == 1 and message in err, err


def test_pyarrow_missing_names_the_package(tmp_path, capsys):
    pq.write_table(table_of(rows(1)), tmp_path / "a.parquet")
    write_arrow(tmp_path / "a.arrow", table_of(rows(1)))
    with mock.patch.dict(sys.modules, {"pyarrow": None, "pyarrow.parquet": None}):
        for path, what in ((tmp_path / "a.parquet", "Parquet"), (tmp_path / "a.arrow", "an Arrow file")):
            rc, out, err = inspect(capsys, path)
            assert (rc, out) == (2, "")
            assert (
                f"{path}: reading {what} needs the pyarrow package, which is not installed (pip install pyarrow)" in err
            )


def test_limits_apply_to_tables(tmp_path, capsys):
    records = rows(4)
    pq.write_table(table_of(records), tmp_path / "a.parquet")
    rc, _, err = inspect(capsys, tmp_path / "a.parquet", "--max-tokens", 100)
    assert rc == 2 and "rows 0..3: the file holds more than 100 values" in err and "--max-tokens N" in err
    rc, _, err = inspect(capsys, tmp_path / "a.parquet", "--max-bytes", 1500)
    assert rc == 2 and "over the --max-bytes limit of 1,500 bytes" in err
    # A small Parquet file whose columns decode to more than --max-bytes stops before its first row group is
    # decoded, from its footer's counts.
    zeros = pa.table({"input_ids": pa.array([[0] * 100_000] * 20, pa.list_(pa.int64()))})
    pq.write_table(zeros, tmp_path / "zeros.parquet", compression="zstd")
    assert (tmp_path / "zeros.parquet").stat().st_size < 100_000
    rc, _, err = inspect(capsys, tmp_path / "zeros.parquet", "--max-bytes", "1M")
    assert rc == 2 and "zeros.parquet: its columns decode to (row group 0 and before) 16," in err
    assert "--max-bytes limit of 1,048,576" in err


PEAK_SCRIPT = """
import sys
import pyarrow as pa
from fastcollate.__main__ import main
rc = main(["inspect", *sys.argv[1:]])
print(pa.default_memory_pool().max_memory(), rc)
"""


def inspect_peak(*argv):
    """(exit status, stderr, the most bytes pyarrow's memory pool held) of inspect in a fresh process."""
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, *map(str, argv)], capture_output=True, text=True)
    peak, rc = map(int, run.stdout.split()[-2:])
    return rc, run.stderr, peak


def zeros_column(n):
    """One row of n zeros: a few KB compressed, n * 4 bytes decoded."""
    return pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), pa.array(np.zeros(n, dtype=np.int32)))


def write_zstd_arrow(path, table, file_format):
    with pa.OSFile(str(path), "wb") as sink:
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with (pa.ipc.new_file if file_format else pa.ipc.new_stream)(sink, table.schema, options=options) as w:
            w.write_table(table)
    return path


ZEROS = 4_000_000  # 16 MB decoded


@pytest.mark.parametrize("kind", ["parquet", "arrow_stream", "arrow_file"])
def test_a_compressed_bomb_is_refused_before_it_is_decoded(tmp_path, kind):
    """--max-bytes bounds what the chosen columns decode to, checked from the metadata before decoding: the
    Parquet footer's value counts, an Arrow message's buffer lengths (a compressed buffer's decompressed
    length is its first 8 bytes)."""
    table = pa.table({"input_ids": zeros_column(ZEROS)})
    path = tmp_path / ("bomb.parquet" if kind == "parquet" else "bomb.arrow")
    if kind == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        write_zstd_arrow(path, table, kind == "arrow_file")
    assert path.stat().st_size < 100_000
    rc, err, peak = inspect_peak(path, "--max-bytes", "1M")
    assert peak < 2**20, (peak, err)  # nothing decoded
    assert rc == 2 and err.startswith("python -m fastcollate inspect: error: ") and err.count("\n") == 1, err
    decoded = "its columns decode to (row group 0 and before)" if kind == "parquet" else "decompress to"
    assert f"{path}: " in err and decoded in err and "over the --max-bytes limit of 1,048,576 bytes" in err, err


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
def test_other_columns_of_a_compressed_arrow_file_are_never_decoded(tmp_path, file_format):
    """Only the columns read are decompressed, the row count included; --max-bytes counts every column of a
    compressed body (it is checked before decompressing)."""
    table = table_of(rows(1)).append_column("audio", zeros_column(ZEROS))
    path = write_zstd_arrow(tmp_path / "junk.arrow", table, file_format)
    rc, err, peak = inspect_peak(path, "--max-bytes", "1G")
    assert (rc, err) == (0, "")
    assert peak < ZEROS, peak  # the 16 MB column was never decompressed
    rc, err, _ = inspect_peak(path, "--max-bytes", "1M")
    assert rc == 2 and "compressed record batches decompress to (every column counted" in err, err


# ------------------------------------------------------------------------------------------------ streaming


def many(n):
    base = rows(4)
    return [dict(base[i % 4]) for i in range(n)]


def test_a_file_of_many_record_batches_streams(tmp_path, capsys):
    records = many(3000)
    records[2900] = dict(records[0], labels=[IGNORE] * len(records[0]["input_ids"]))
    table = table_of(records)
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=500)
    write_arrow(tmp_path / "big.arrow", table, max_chunksize=700)
    assert pq.ParquetFile(tmp_path / "big.parquet").metadata.num_row_groups == 6
    write_jsonl(tmp_path / "big.jsonl", records)
    for path in (tmp_path / "big.parquet", tmp_path / "big.arrow", tmp_path / "big.jsonl"):
        tracemalloc.start()
        try:
            rc, out, err = inspect(capsys, path, "--sample", 2900)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert rc == 1 and err == "", (path, err)
        assert f"{path.name}: 3,000 samples;" in out and "=== sample 2900 ===" in out
        assert "sample 2900: given labels are ALL -100" in out
        # Every row is read (and checked) once, a batch at a time: holding them all would take far more.
        assert peak < 8 * 2**20, (path, peak)
    # The whole file, in order, with the summary of every row.
    rc, out, _ = inspect(capsys, tmp_path / "big.arrow")
    assert rc == 1 and out.count("=== sample ") == 3000
    assert "=== sample 2999 ===" in out and "sample 2901: given labels are ALL -100" in out
    assert out.count("given labels are ALL -100 (0 learned)") == 751  # every 4th, and sample 2900


def test_bad_row_late_in_a_streamed_file_prints_nothing(tmp_path, capsys):
    path = write_jsonl(tmp_path / "late.jsonl", many(1000))
    with open(path, "a") as f:
        f.write('{"input_ids": [1, 2], "labels": [1]}\n')
    rc, out, err = inspect(capsys, path)
    assert (rc, out) == (2, "") and "late.jsonl:1001: labels has 1 tokens, input_ids has 2" in err


def _run_with_stderr_on_a_terminal(argv):
    """Runs `python -m fastcollate ...` with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    stdout = tempfile.TemporaryFile()
    p = subprocess.Popen([sys.executable, "-m", "fastcollate", *map(str, argv)], stdout=stdout, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=60)
    os.close(master)
    stdout.seek(0)
    out = stdout.read().decode()
    stdout.close()
    return p.returncode, out, b"".join(chunks).decode()


def test_progress_bar_on_a_terminal_only(tmp_path):
    pq.write_table(table_of(many(2000)), tmp_path / "big.parquet", row_group_size=300)
    rc, out, terminal = _run_with_stderr_on_a_terminal(["inspect", tmp_path / "big.parquet"])
    assert rc == 1 and "=== summary: 2,000 samples inspected ===" in out
    assert "\rreading big.parquet: [" in terminal and " rows (" in terminal
    assert "\rinspecting: [" in terminal and "/2,000 samples (" in terminal
    assert terminal.endswith("\r") and "Traceback" not in terminal  # the bar is erased at the end
    assert "\r" not in out and "reading" not in out  # nothing of the bar in the report
    p = subprocess.run(
        [sys.executable, "-m", "fastcollate", "inspect", str(tmp_path / "big.parquet")], capture_output=True, text=True
    )
    assert p.returncode == 1 and p.stderr == "" and p.stdout == out


def test_progress_draws_and_erases():
    class Terminal:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

        def isatty(self):
            return True

    term = Terminal()
    with Progress(8, "reading x", "rows", term, interval=0) as bar:
        for _ in range(4):
            bar.update()
    assert "\rreading x: [" + "#" * 12 + "." * 12 + "] 4/8 rows (50%)" in term.text
    assert term.text.endswith("\r" + " " * len("reading x: [" + "#" * 12 + "." * 12 + "] 4/8 rows (50%)") + "\r")
    quiet = Terminal()
    quiet.isatty = lambda: False
    with Progress(8, "reading x", "rows", quiet, interval=0) as bar:
        bar.update(8)
    assert quiet.text == ""
    forced = Terminal()
    forced.isatty = lambda: False
    with Progress(None, "reading y", "bytes", forced, enabled=True, interval=0) as bar:
        bar.update(1234)
    assert "\rreading y: 1,234 bytes" in forced.text
