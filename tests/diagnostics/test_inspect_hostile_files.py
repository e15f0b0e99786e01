"""`python -m fastcollate inspect FILE` on malformed and hostile files: always exit 2 (bad input) with one line
naming the file and the problem, never 1 (labels differ) and never a traceback; a small file that expands (shared
references, stride-0 tensors, compressed records or arrays) stops at the --max-tokens / --max-bytes limits, and
an .npz array that is not used is never decompressed."""

import json
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from inspect_run import PREFIX, inspect

from fastcollate.__main__ import main
from fastcollate.synthetic import synthetic_text_batch


def assert_bad_input(capsys, path, *messages, argv=()):
    rc, out, err = inspect(capsys, path, *argv)
    assert (rc, out) == (2, ""), (rc, out, err)
    assert err.startswith(PREFIX) and err.count("\n") == 1 and "Traceback" not in err, err
    assert path.name in err, err
    for m in messages:
        assert m in err, err
    return err


def one_chat():
    (s,) = synthetic_text_batch(1, 48, exchanges=1, seed=0)
    return s.input_ids.tolist(), s.label_ids.tolist()


# ------------------------------------------------------------------------------------------------ .jsonl


def test_jsonl_int_past_pythons_digit_limit(tmp_path, capsys):
    path = tmp_path / "digits.jsonl"
    path.write_text('{"input_ids": [1, 2]}\n{"input_ids": [' + "9" * 4301 + "]}\n")
    assert_bad_input(capsys, path, "digits.jsonl:2: an integer with more than 4300 digits")


@pytest.mark.parametrize("field", ["input_ids", "labels", "start_index"])
def test_jsonl_int_that_does_not_fit_64_bits(tmp_path, capsys, field):
    ids, labels = one_chat()
    huge = int("9" * 4300)  # parses (at Python's limit), and no tensor can hold it
    obj = {"input_ids": ids, "labels": labels}
    obj[field] = huge if field == "start_index" else obj[field][:-1] + [huge]
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps(obj) + "\n")
    assert_bad_input(capsys, path, f"huge.jsonl:1: {field}", "in 64 bits", "an int of 14285 bits")


def test_jsonl_deeply_nested(tmp_path, capsys):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"input_ids": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert_bad_input(capsys, path, "deep.jsonl:1: invalid JSON (nested too deeply")


# ------------------------------------------------------------------------------------------------ .pt


def _sparse_coo():
    return torch.sparse_coo_tensor(torch.tensor([[0, 1]]), torch.tensor([3, 4]), (4,), check_invariants=True)


HOSTILE_TENSORS = {
    "sparse_coo": (_sparse_coo, "got a sparse_coo tensor"),
    "sparse_csr": (lambda: torch.tensor([[1, 0], [0, 2]]).to_sparse_csr(), "got a sparse_csr tensor"),
    "nested": (lambda: torch.nested.nested_tensor([torch.arange(3), torch.arange(2)]), "got a nested tensor"),
    "meta": (lambda: torch.empty(5, dtype=torch.long, device="meta"), "got a meta tensor"),
    "quantized": (
        lambda: torch.quantize_per_tensor(torch.tensor([1.0, 2.0]), 0.1, 0, torch.qint8),
        "got a quantized tensor",
    ),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("field", ["input_ids", "labels", "attention_mask", "start_index"])
@pytest.mark.parametrize("kind", sorted(HOSTILE_TENSORS))
def test_pt_tensor_that_is_not_dense_cpu(tmp_path, capsys, kind, field):
    make, message = HOSTILE_TENSORS[kind]
    batch = {"input_ids": torch.arange(4), field: make()}
    path = tmp_path / f"{kind}.pt"
    torch.save(batch, path)
    assert_bad_input(capsys, path, f"{kind}.pt: {field}: ", message)


HUGE = 2**2000  # the largest kind of int a weights_only pickle holds (LONG1): shown by its size


@pytest.mark.parametrize(
    "batch, message",
    [
        (dict(input_ids=[1, 2, 2**70]), "input_ids: expected ints that fit in 64 bits, found 1180591620717411303424"),
        (dict(input_ids=[[1, 2], [3, HUGE]]), "input_ids[1]: expected ints that fit in 64 bits, found <an int of 2001"),
        (dict(input_ids=[1, 2], start_index=2**64), "start_index[0]: expected an int that fits in 64 bits"),
        ({HUGE: 1, "x": 2}, "missing 'input_ids' (keys: [<an int of 2001 bits>, 'x'])"),
        (dict(input_ids=torch.arange(4), start_index=torch.zeros(4, 4).to_sparse()), "start_index: expected a dense"),
    ],
    ids=["int_past_64_bits", "huge_int", "start_index", "huge_key", "sparse_start"],
)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pt_values_of_wrong_type_or_size(tmp_path, capsys, batch, message):
    path = tmp_path / "bad.pt"
    torch.save(batch, path)
    assert_bad_input(capsys, path, message)


def _audio_batch(b=2, t=6, k=2):
    return dict(
        input_ids=torch.full((b, 5), 7, dtype=torch.long),
        audio_input_ids=torch.zeros(b, t, k, dtype=torch.long),
        audio_labels=torch.full((b, t, k), -100, dtype=torch.long),
        audio_input_ids_mask=torch.ones(b, t, dtype=torch.long),
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(audio_labels=[[[-100]]]), "audio_labels is a list, not a tensor"),
        (dict(audio_input_ids=torch.zeros(2, 6, 2)), "audio_input_ids: expected integer ids, got torch.float32"),
        (dict(audio_input_ids_mask=torch.full((2, 6), 9)), "audio_input_ids_mask: expected 0/1 values"),
        (dict(input_ids=torch.full((3, 5), 7)), "audio_labels: 2 sample(s), input_ids has 3"),
        (dict(audio_labels=_sparse_coo()), "audio_labels: expected a dense tensor"),
    ],
    ids=["list", "float", "mask_values", "batch_size", "sparse"],
)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pt_higgs_audio_fields_of_wrong_type_or_shape(tmp_path, capsys, change, message):
    path = tmp_path / "audio.pt"
    torch.save({**_audio_batch(), **change}, path)
    assert_bad_input(capsys, path, message)


def test_pt_shared_list_references_stop_at_max_tokens(tmp_path, capsys):
    """A 100 KB pickle of one list referenced 25,000 times: 300 million values if read."""
    row = list(range(100, 12_100))
    path = tmp_path / "shared.pt"
    torch.save({"input_ids": [row] * 25_000}, path)
    assert path.stat().st_size < 100_000
    start = time.perf_counter()
    err = assert_bad_input(capsys, path, "more than 10,000,000 values", "--max-tokens limit", "--max-tokens N")
    assert time.perf_counter() - start < 3, err
    # Under the limit the same kind of file is read as it is (each reference is a sample).
    torch.save({"input_ids": [row[:40]] * 3}, tmp_path / "few.pt")
    rc, out, _ = inspect(capsys, tmp_path / "few.pt", "--allow-empty")
    assert rc == 0 and "few.pt: 3 samples;" in out


def test_pt_stride_0_tensor_stops_at_max_tokens(tmp_path, capsys):
    path = tmp_path / "expanded.pt"
    torch.save({"input_ids": torch.zeros(1, dtype=torch.long).expand(10**9)}, path)
    start = time.perf_counter()
    assert_bad_input(capsys, path, "expanded.pt: input_ids: the file holds more than 10,000,000 values")
    assert time.perf_counter() - start < 3


def test_pt_compressed_records_checked_before_loading(tmp_path, capsys):
    torch.save({"input_ids": torch.zeros(10**7, dtype=torch.long)}, tmp_path / "plain.pt")
    path = tmp_path / "deflated.pt"
    with zipfile.ZipFile(tmp_path / "plain.pt") as a, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist():
            b.writestr(info.filename, a.read(info.filename))
    assert path.stat().st_size < 1_000_000
    assert_bad_input(capsys, path, "deflated.pt: its records hold 80,000,", "--max-bytes limit of 67,108,864 bytes")


# ------------------------------------------------------------------------------------------------ .npz


def _npz_with_declared_array(path, used, name, shape, dtype="<i8"):
    """An .npz holding the arrays `used` and one more, `name`, of the declared shape: zeros, deflated (a few
    hundred MB become a few hundred KB), written in chunks so the test never holds it."""
    np.savez(path, **used)
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open(name + ".npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, header)
        chunk = bytes(2**20)
        for start in range(0, nbytes, len(chunk)):
            f.write(chunk[: nbytes - start])
    return path


def test_npz_unused_array_is_never_decompressed(tmp_path, capsys):
    ids, labels = one_chat()
    path = _npz_with_declared_array(
        tmp_path / "unused.npz", dict(input_ids=np.array(ids), labels=np.array(labels)), "pixels", (2**26,)
    )  # 512 MiB declared
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        start = time.perf_counter()
        rc, out, err = inspect(capsys, path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rc == 0 and err == "" and "unused.npz: 1 sample;" in out
    assert peak < 32 * 2**20 and elapsed < 3, (peak, elapsed)


def test_npz_used_array_over_max_bytes_is_not_read(tmp_path, capsys):
    ids, _ = one_chat()
    path = _npz_with_declared_array(tmp_path / "big.npz", dict(input_ids=np.array(ids)), "labels", (2**24,))
    tracemalloc.start()
    try:
        err = assert_bad_input(capsys, path, "array 'labels' (int64, shape (16777216,)) holds 134,217,728 bytes")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "--max-bytes limit of 67,108,864 bytes; raise it with --max-bytes N" in err
    assert peak < 32 * 2**20, peak
    # Raised past it, the array is read, and its 16,777,216 labels meet the other limit.
    assert_bad_input(capsys, path, "big.npz: labels: the file holds more than 10,000,000", argv=["--max-bytes", "1G"])


def test_npz_member_that_is_not_an_array(tmp_path, capsys):
    path = tmp_path / "raw.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("input_ids", b"not an .npy array")
    assert_bad_input(capsys, path, "raw.npz: input_ids: cannot read the array")


# ------------------------------------------------------------------------------------------------ the options


def test_limits_name_the_option_and_can_be_raised(tmp_path, capsys):
    ids, labels = one_chat()
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"input_ids": ids, "labels": labels}) + "\n")
    assert_bad_input(capsys, path, "--max-tokens limit; raise it with --max-tokens N", argv=["--max-tokens", 50])
    assert inspect(capsys, path, "--max-tokens", 97)[0] == 0  # 48 ids + 48 labels + the sample
    size = path.stat().st_size
    assert_bad_input(
        capsys,
        path,
        f"a.jsonl: the file has {size:,} bytes, over the --max-bytes limit of 100 bytes",
        argv=["--max-bytes", 100],
    )
    path.write_text((json.dumps({"input_ids": ids, "labels": labels}) + "\n") * 3)
    assert path.stat().st_size > 1024
    assert_bad_input(capsys, path, "over the --max-bytes limit of 1,024 bytes", argv=["--max-bytes", "1K"])
    assert inspect(capsys, path, "--max-bytes", "1M")[0] == 0
    for bad in (["--max-bytes", "0"], ["--max-bytes", "lots"], ["--max-tokens", "-1"]):
        with pytest.raises(SystemExit) as e:
            inspect(capsys, path, *bad)
        assert e.value.code == 2


def test_help_documents_limits_and_exit_2(capsys):
    with pytest.raises(SystemExit):
        main(["inspect", "--help"])
    out = capsys.readouterr().out
    assert "--max-bytes SIZE" in out and "--max-tokens N" in out
    assert "Limits (a file over one is bad input, exit 2" in out
    assert "never a traceback" in out
