"""ChatCollator reads Arrow batches (what a datasets.Dataset holds) zero-copy: ListArray, LargeListArray,
ChunkedArray, sliced arrays, and Tables/RecordBatches with input_ids and start_index columns, equal bit for bit
to the same rows given as lists, on every backend."""

import numpy as np
import pytest
import torch
from conftest import backends

from fastcollate import ChatCollator, presets
from fastcollate.rolespan.arrow_input import arrow_batch
from fastcollate.synthetic import synthetic_text_batch

pa = pytest.importorskip("pyarrow")


def rows_and_starts(n=6):
    rows = [s.input_ids.tolist() for s in synthetic_text_batch(n, 96, exchanges=2, seed=3)]
    rows[2] = rows[2][:50]
    return rows, [None, 2, None, 3, 0, None][:n]


def equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k], k


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("packed", [False, True])
def test_arrow_forms_equal_lists(backend, packed):
    rows, starts = rows_and_starts()
    collate = ChatCollator(presets.llama3(), 128001, packed=packed, backend=backend, return_num_learned=True)
    want = collate(rows)
    equal(collate(pa.array(rows)), want)
    equal(collate(pa.array(rows, type=pa.large_list(pa.int32()))), want)
    equal(collate(pa.array(rows, type=pa.list_(pa.uint32()))), want)
    equal(collate(pa.chunked_array([pa.array(rows[:2]), pa.array(rows[2:3]), pa.array(rows[3:])])), want)
    equal(collate(pa.array([[7]] + rows + [[8, 9]]).slice(1, len(rows))), want)
    with_starts = collate([{"input_ids": r, "start_index": s} for r, s in zip(rows, starts)])
    equal(collate(pa.table({"input_ids": rows, "start_index": starts})), with_starts)
    equal(collate(pa.RecordBatch.from_pydict({"input_ids": rows, "start_index": starts})), with_starts)


def test_arrow_ids_are_not_copied():
    rows, _ = rows_and_starts()
    column = pa.chunked_array([pa.array(rows[:3]), pa.array(rows[3:])])
    chunks, _ = arrow_batch(column, None)
    for (values, offsets), chunk in zip(chunks, column.chunks):
        assert values.__array_interface__["data"][0] == chunk.values.buffers()[1].address
        assert offsets.__array_interface__["data"][0] == chunk.buffers()[1].address
        assert values.dtype == np.int64  # read by the compiled path as it is (int32/int64 need no conversion)


@pytest.mark.parametrize("backend", backends())
def test_datasets_arrow_format(backend):
    datasets = pytest.importorskip("datasets")
    rows, starts = rows_and_starts()
    ds = datasets.Dataset.from_dict({"input_ids": rows, "start_index": starts})
    collate = ChatCollator(presets.llama3(), 128001, backend=backend)
    table = ds.with_format("arrow")[1:5]
    assert isinstance(table, pa.Table)
    equal(collate(table), collate([{"input_ids": r, "start_index": s} for r, s in zip(rows[1:5], starts[1:5])]))


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: pa.table({"input_ids": [[1, 2]], "text": ["hi"]}),
            r"^text: is not a feature ChatCollator reads \(input_ids, start_index\): drop the column or list it in "
            r"ignore_keys to skip it$",
        ),
        (lambda: pa.table({"ids": [[1, 2]]}), r"^ids: is not a feature ChatCollator reads"),
        (lambda: pa.table({"start_index": [1]}), r"^start_index: is not|^input_ids: missing from the Arrow batch"),
        (lambda: pa.array([[1, 2], None, [3]]), r"^sample 1: input_ids: is null$"),
        (lambda: pa.array([[1, 2], [3, None, 4]]), r"^sample 1: input_ids: null id at position 1$"),
        (lambda: pa.array([[1.5, 2.0]]), r"^input_ids: expected integer ids, got Arrow type double$"),
        (lambda: pa.array([1, 2]), r"^input_ids: expected an Arrow list<int> column, got int64$"),
        (
            lambda: pa.table({"input_ids": [[5, 6]], "start_index": ["x"]}),
            r"^sample 0: start_index: expected an int or None, got str$",
        ),
        (lambda: pa.array([[]], type=pa.list_(pa.int64())).slice(0, 0), r"^batch: is empty, nothing to collate$"),
    ],
)
def test_arrow_errors(backend, make, message):
    with pytest.raises(ValueError, match=message):
        ChatCollator(presets.llama3(), 0, backend=backend, on_empty="keep")(make())


def test_arrow_start_index_under_a_spec_that_does_not_read_it():
    table = pa.table({"input_ids": [[1, 2], [3, 4]], "start_index": [None, 3]})
    with pytest.raises(ValueError, match=r"^sample 1: start_index: is 3, but the spec selects turns='all'"):
        ChatCollator(presets.llama3(turns="all"), 0, on_empty="keep")(table)
    out = ChatCollator(presets.llama3(turns="all"), 0, on_empty="keep", ignore_keys=("start_index",))(table)
    assert out["input_ids"].shape == (2, 2)
