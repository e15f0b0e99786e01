"""Converting what `python -m fastcollate inspect` reads into samples, within the limits: a row (a .jsonl line, a
Parquet or Arrow row), and whole .pt and .npz files (formats: inspect_cli.py; streamed files: inspect_sources.py)."""

from __future__ import annotations

import argparse
import json
import math
import reprlib
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch

# A hostile file must not cost more than its size suggests: shared references in a pickle (one list referenced
# 25,000 times), stride-0 tensors and compressed records or arrays all expand a small file into billions of
# values. Every value is counted against max_tokens before it is converted, and every byte torch.load or an
# .npz array would decompress is checked against max_bytes before it is read.
DEFAULT_MAX_BYTES = 64 * 2**20
DEFAULT_MAX_TOKENS = 10_000_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.uint16, torch.uint32, torch.uint64)
# Tensor types torch.load(weights_only=True) can return whose values tolist() reads as they are.
PLAIN_TENSORS = (torch.Tensor, torch.nn.Parameter)
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 6, 6, 4, 40, 40


class InputError(ValueError):
    """Bad input (file, format, arguments, or a file over a limit): reported on stderr with exit status 2."""


def positive_count(text: str) -> int:
    """An option's count (--max-tokens, --view-max-tokens): a positive int, else argparse's usage error."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
    return n


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES  # the file's size, and the bytes torch.load or the .npz arrays decompress
    max_tokens: int = DEFAULT_MAX_TOKENS  # values read in all: ids, labels, mask entries, start indices, one per row


class Budget:
    """Counts the values read from one file against Limits.max_tokens, before they are converted."""

    def __init__(self, path, limits: Limits):
        self.path, self.limits, self.left = path, limits, limits.max_tokens

    def check(self, n: int, what: str) -> None:
        """Raises when n more values would pass the limit, without taking them (before a conversion that takes
        them one field at a time)."""
        if n > self.left:
            self.take(n, what)

    def take(self, n: int, what: str) -> None:
        if n > self.left:
            raise InputError(
                f"{what}: the file holds more than {self.limits.max_tokens:,} values to read (token ids, labels, "
                f"mask entries and one per sample), the --max-tokens limit; raise it with --max-tokens N"
            )
        self.left -= n


def _short(value) -> str:
    """A bounded repr for messages: never the whole of a huge, deep or shared structure."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an int of {value.bit_length()} bits>"
    if isinstance(value, torch.Tensor):
        return f"<{type(value).__name__} of {value.dtype}, shape {tuple(value.shape)}>"
    try:
        return _REPR.repr(value)
    except Exception:  # a repr that fails (an int past Python's digit limit inside a list, ...)
        return f"<{type(value).__name__}>"


def _keys(d) -> str:
    keys = list(d)
    shown = ", ".join(_short(k) for k in keys[:20])
    return f"[{shown}{', ...' if len(keys) > 20 else ''}]"


def _check_tensor(value: torch.Tensor, what: str) -> None:
    """A dense CPU tensor whose values tolist() can read: not sparse, nested, quantized, meta or a subclass."""
    if type(value) not in PLAIN_TENSORS:
        raise InputError(f"{what}: expected a plain tensor, got {type(value).__name__}")
    if value.layout != torch.strided or value.is_nested:
        kind = "nested" if value.is_nested else str(value.layout).replace("torch.", "")
        raise InputError(f"{what}: expected a dense tensor, got a {kind} tensor (convert it with .to_dense())")
    if value.is_quantized or value.device.type != "cpu":
        kind = "quantized" if value.is_quantized else value.device.type
        raise InputError(f"{what}: expected a CPU tensor of integer ids, got a {kind} tensor")


@dataclass
class Sample:
    input_ids: List[int]
    labels: Optional[List[int]]
    start_index: Optional[int]


# ---------------------------------------------------------------------------------------------- conversion


def _int_row(value, what: str, budget: Budget, allow_bool: bool = False) -> List[int]:
    """A 1-D integer sequence (tensor, array, list) as a list of Python ints; bools only where allow_bool (a
    mask). Its length is taken from the budget before any value is converted."""
    if isinstance(value, torch.Tensor):
        _check_tensor(value, what)
        if value.dtype not in INT_DTYPES and not (allow_bool and value.dtype == torch.bool):
            raise InputError(f"{what}: expected integer ids, got a {value.dtype} tensor")
        if value.dim() != 1:
            raise InputError(f"{what}: expected 1-D, got shape {tuple(value.shape)}")
        budget.take(value.numel(), what)
        return value.tolist()  # Python ints (bools for a bool mask)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ("iub" if allow_bool else "iu"):
            raise InputError(f"{what}: expected integer ids, got a {value.dtype} array")
        if value.ndim != 1:
            raise InputError(f"{what}: expected 1-D, got shape {value.shape}")
        budget.take(value.size, what)
        return value.tolist()
    if isinstance(value, (list, tuple)):
        budget.take(len(value), what)
        if all(type(v) is int for v in value):  # the common case: copied, and range-checked by min/max, in C
            out = list(value)
        else:
            bad = next((v for v in value if isinstance(v, bool) or not isinstance(v, (int, np.integer))), None)
            if bad is not None:
                raise InputError(f"{what}: expected a list of ints, found {_short(bad)} ({type(bad).__name__})")
            out = [int(v) for v in value]
        if out and (min(out) < INT64_MIN or max(out) > INT64_MAX):
            big = next(v for v in out if not INT64_MIN <= v <= INT64_MAX)
            raise InputError(f"{what}: expected ints that fit in 64 bits, found {_short(big)}")
        return out
    raise InputError(f"{what}: expected a list of ints or a 1-D integer tensor, got {type(value).__name__}")


def _rows(value, what: str, budget: Budget, allow_bool: bool = False) -> List[List[int]]:
    """One sample (1-D) or a batch (2-D tensor/array, or a list of rows) as a list of int lists. Each row counts
    one against the budget, so a batch of many empty rows is bounded too."""
    if isinstance(value, torch.Tensor):
        _check_tensor(value, what)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim == 1:
            budget.take(1, what)
            return [_int_row(value, what, budget, allow_bool)]
        if value.ndim == 2:
            budget.take(value.shape[0], what)
            return [_int_row(value[i], f"{what}[{i}]", budget, allow_bool) for i in range(value.shape[0])]
        raise InputError(f"{what}: expected 1-D (one sample) or 2-D (batch, tokens), got shape {tuple(value.shape)}")
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            budget.take(1, what)
            return [_int_row(value, what, budget, allow_bool)]
        budget.take(len(value), what)
        # A pickle can reference one row many times: each is counted, but converted once (and copied).
        done, rows = {}, []
        for i, v in enumerate(value):
            if id(v) in done:
                budget.take(len(done[id(v)]), f"{what}[{i}]")
                rows.append(list(done[id(v)]))
            else:
                rows.append(_int_row(v, f"{what}[{i}]", budget, allow_bool))
                done[id(v)] = rows[-1]
        return rows
    raise InputError(f"{what}: expected a tensor, an array or a list of lists of ints, got {type(value).__name__}")


def _start_indices(value, n: int, what: str, budget: Budget) -> List[Optional[int]]:
    if value is None:
        return [None] * n
    if isinstance(value, torch.Tensor):
        _check_tensor(value, what)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim > 1:
            raise InputError(f"{what}: expected one int (or None) per sample ({n}), got shape {tuple(value.shape)}")
        if value.ndim == 1 and value.shape[0] != n:
            raise InputError(f"{what}: expected {n} entries (one per sample), got {value.shape[0]}")
        value = value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if n != 1:
            raise InputError(f"{what}: a single int is only allowed for one sample; give one per sample ({n})")
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{what}: expected one int (or None) per sample, got {type(value).__name__}")
    if len(value) != n:
        raise InputError(f"{what}: expected {n} entries (one per sample), got {len(value)}")
    budget.take(n, what)
    out = []
    for i, v in enumerate(value):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise InputError(f"{what}[{i}]: expected an int or None, got {_short(v)}")
        if v is not None and not INT64_MIN <= int(v) <= INT64_MAX:
            raise InputError(f"{what}[{i}]: expected an int that fits in 64 bits, got {_short(int(v))}")
        out.append(None if v is None else int(v))
    return out


def _label_key(d, where: str):
    if "labels" in d and "label_ids" in d:
        raise InputError(f"{where}: has both 'labels' and 'label_ids'; keep one")
    return "labels" if "labels" in d else ("label_ids" if "label_ids" in d else None)


def _check_lengths(samples: List[Sample], where: str) -> List[Sample]:
    for i, s in enumerate(samples):
        if s.labels is not None and len(s.labels) != len(s.input_ids):
            raise InputError(f"{where}sample {i}: labels has {len(s.labels)} tokens, input_ids has {len(s.input_ids)}")
    return samples


def _from_batch(ids, labels, mask, start, where: str, budget: Budget) -> List[Sample]:
    """Samples from batch-layout fields (1-D, 2-D or list of rows), padding removed where mask == 0."""
    id_rows = _rows(ids, f"{where}input_ids", budget)
    n = len(id_rows)
    label_rows = None
    if labels is not None:
        label_rows = _rows(labels, f"{where}labels", budget)
        if len(label_rows) != n:
            raise InputError(f"{where}labels: {len(label_rows)} sample(s), input_ids has {n}")
    if mask is not None:
        # Checked before any value is read: a float mask is an error, never rounded.
        if isinstance(mask, torch.Tensor):
            _check_tensor(mask, f"{where}attention_mask")
            if mask.dtype.is_floating_point or mask.dtype.is_complex:
                raise InputError(f"{where}attention_mask: expected an integer or bool mask, got {mask.dtype}")
        if isinstance(mask, np.ndarray) and mask.dtype.kind in "fc":
            raise InputError(f"{where}attention_mask: expected an integer or bool mask, got {mask.dtype}")
        mask_rows = _rows(mask, f"{where}attention_mask", budget, allow_bool=True)
        if len(mask_rows) != n:
            raise InputError(f"{where}attention_mask: {len(mask_rows)} row(s), input_ids has {n}")
        for i, m in enumerate(mask_rows):
            if len(m) != len(id_rows[i]):
                raise InputError(
                    f"{where}attention_mask[{i}]: length {len(m)} != input_ids[{i}] length {len(id_rows[i])}"
                )
            if label_rows is not None and len(label_rows[i]) != len(m):
                raise InputError(
                    f"{where}labels[{i}]: length {len(label_rows[i])} != attention_mask[{i}] length {len(m)}"
                )
            keep = [j for j, v in enumerate(m) if v != 0]
            id_rows[i] = [id_rows[i][j] for j in keep]
            if label_rows is not None:
                label_rows[i] = [label_rows[i][j] for j in keep]
    starts = _start_indices(start, n, f"{where}start_index", budget)
    samples = [Sample(id_rows[i], None if label_rows is None else label_rows[i], starts[i]) for i in range(n)]
    return _check_lengths(samples, where)


# ---------------------------------------------------------------------------------------------- loaders


def too_many_bytes(path, what: str, limits: Limits, size: Optional[int] = None) -> str:
    size = f" {size:,} bytes," if size is not None else " more than"
    return (
        f"{path}: {what}{size} over the --max-bytes limit of {limits.max_bytes:,} bytes; raise it with "
        f"--max-bytes N (e.g. 1G)"
    )


def parse_json_line(raw: bytes, where: str):
    """One .jsonl line (bytes) as a JSON value; InputError naming `where` (the file and line) when it is not."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{where}not UTF-8 text ({e})") from None
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}invalid JSON ({e})") from None
    except RecursionError:
        raise InputError(f"{where}invalid JSON (nested too deeply for Python's parser)") from None
    except ValueError as e:  # an integer past Python's limit on int-string conversion
        if "integer string conversion" not in str(e):
            raise InputError(f"{where}invalid JSON ({e})") from None
        raise InputError(
            f"{where}an integer with more than {sys.get_int_max_str_digits()} digits (Python's limit); "
            "token ids, labels and start_index must fit in 64 bits"
        ) from None


def sample_from_row(obj, where: str, budget: Budget, what: str = "a JSON object") -> Sample:
    """One sample from a row: a .jsonl line's object, or a Parquet / Arrow row as a dict. `where` names the
    file and the row ("FILE:LINE: " or "FILE: row N: ")."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}expected {what} with 'input_ids', got {type(obj).__name__}")
    if "input_ids" not in obj:
        raise InputError(f"{where}missing 'input_ids' (keys: {_keys(obj)})")
    budget.take(1, f"{where}input_ids")
    ids = _int_row(obj["input_ids"], f"{where}input_ids", budget)
    key = _label_key(obj, where.rstrip(": "))
    labels = None if key is None or obj[key] is None else _int_row(obj[key], f"{where}{key}", budget)
    start = _start_indices(obj.get("start_index"), 1, f"{where}start_index", budget)[0]
    if labels is not None and len(labels) != len(ids):
        raise InputError(f"{where}{key} has {len(labels)} tokens, input_ids has {len(ids)}")
    return Sample(ids, labels, start)


def _load_pt(path: Path, limits: Limits, budget: Budget):
    """The samples of a .pt file, and the audio summaries when it holds a Higgs Audio v2 batch (else None)."""
    if zipfile.is_zipfile(path):
        # torch.load reads every record of the archive, compressed ones too: their declared sizes bound it.
        try:
            with zipfile.ZipFile(path) as z:
                total = sum(info.file_size for info in z.infolist())
        except (zipfile.BadZipFile, ValueError, EOFError) as e:
            raise InputError(f"{path}: torch.load(weights_only=True) failed: not a readable archive ({e})") from None
        if total > limits.max_bytes:
            raise InputError(too_many_bytes(path, "its records hold", limits, total))
    try:
        # weights_only=True: tensors and plain containers only, never arbitrary objects (an explicit
        # weights_only is not overridden by TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD).
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types (UnpicklingError, RuntimeError, EOFError); keep its message
        first = str(e).splitlines()[0] if str(e) else ""
        raise InputError(f"{path}: torch.load(weights_only=True) failed: {type(e).__name__}: {first[:300]}") from None
    if isinstance(obj, dict):
        samples = _from_dict(obj, f"{path}: ", budget)
        _check_boson_audio(obj, path, budget)
        return samples, _higgs_hf_audio(obj, path, len(samples), budget)
    if isinstance(obj, (list, tuple)):
        if not all(isinstance(d, dict) for d in obj):
            raise InputError(f"{path}: a list must hold one dict per sample")
        samples = []
        for i, d in enumerate(obj):
            one = _from_dict(d, f"{path}: [{i}] ", budget)
            if len(one) != 1:
                raise InputError(f"{path}: [{i}] input_ids: expected one sample (1-D), got {len(one)} rows")
            samples += one
        return samples, None
    raise InputError(
        f"{path}: expected a dict with 'input_ids' or a list of per-sample dicts, got {type(obj).__name__}"
    )


def _from_dict(d: dict, where: str, budget: Budget) -> List[Sample]:
    if "input_ids" not in d:
        raise InputError(f"{where}missing 'input_ids' (keys: {_keys(d)})")
    key = _label_key(d, where.rstrip(": "))
    return _from_batch(
        d["input_ids"], None if key is None else d[key], d.get("attention_mask"), d.get("start_index"), where, budget
    )


HIGGS_AUDIO_FIELDS = {"audio_input_ids": 3, "audio_labels": 3, "audio_input_ids_mask": 2}


def _check_boson_audio(obj: dict, path: Path, budget: Budget) -> None:
    """The audio labels of a boson-multimodal batch (HiggsAudioSampleCollator's fields): label_audio_ids needs
    audio_out_ids, both (K, N) integer tensors of one shape (the report draws each clip from the two), and
    audio_out_ids_start, where given, one index per clip, non-decreasing within 0 .. N."""
    if obj.get("label_audio_ids") is None:
        return
    needs = f"{path}: a boson-multimodal batch's audio labels need audio_out_ids and label_audio_ids of shape (K, N)"
    if obj.get("audio_out_ids") is None:
        raise InputError(f"{needs}: 'audio_out_ids' is missing")
    for name in ("audio_out_ids", "label_audio_ids"):
        t = obj[name]
        if not isinstance(t, torch.Tensor):
            raise InputError(f"{needs}: {name} is a {type(t).__name__}, not a tensor")
        _check_tensor(t, f"{path}: {name}")
        if t.dtype not in INT_DTYPES:
            raise InputError(f"{path}: {name}: expected integer ids, got {t.dtype}")
        if t.dim() != 2:
            raise InputError(f"{needs}: {name} has shape {tuple(t.shape)}")
        budget.take(t.numel(), f"{path}: {name}")
    ids, labels = obj["audio_out_ids"], obj["label_audio_ids"]
    if ids.shape != labels.shape:
        raise InputError(
            f"{path}: label_audio_ids: shape {tuple(labels.shape)} != audio_out_ids shape {tuple(ids.shape)}"
        )
    starts = obj.get("audio_out_ids_start")
    if starts is None:
        return
    if not isinstance(starts, torch.Tensor):
        raise InputError(f"{path}: audio_out_ids_start: expected a 1-D integer tensor, got {type(starts).__name__}")
    _check_tensor(starts, f"{path}: audio_out_ids_start")
    if starts.dtype not in INT_DTYPES or starts.dim() != 1:
        raise InputError(
            f"{path}: audio_out_ids_start: expected a 1-D integer tensor, got {starts.dtype} of shape "
            f"{tuple(starts.shape)}"
        )
    budget.take(starts.numel(), f"{path}: audio_out_ids_start")
    bounds = starts.tolist() + [ids.shape[1]]
    if any(a < 0 or b < a for a, b in zip(bounds, bounds[1:])):
        raise InputError(
            f"{path}: audio_out_ids_start: expected non-decreasing clip starts within 0 .. {ids.shape[1]} (the "
            f"frames of audio_out_ids), got {_short(starts.tolist())}"
        )


def _higgs_hf_audio(obj: dict, path: Path, n: int, budget: Budget):
    """Per sample audio summaries (higgs_hf_audio.SampleAudio) of a transformers Higgs Audio v2 batch (a dict
    with audio_input_ids, audio_input_ids_mask and audio_labels); None for any other dict."""
    if "audio_labels" not in obj:
        return None
    from .higgs_hf_audio import sample_audio

    needs = (
        f"{path}: a Higgs Audio v2 batch needs audio_input_ids, audio_input_ids_mask and "
        f"audio_labels of shapes (B, T, K), (B, T), (B, T, K)"
    )
    for name, ndim in HIGGS_AUDIO_FIELDS.items():
        if name not in obj:
            raise InputError(f"{needs}: {name!r} is missing")
        t = obj[name]
        if not isinstance(t, torch.Tensor):
            raise InputError(f"{needs}: {name} is a {type(t).__name__}, not a tensor")
        _check_tensor(t, f"{path}: {name}")
        mask = name.endswith("_mask")
        if t.dtype not in INT_DTYPES and not (mask and t.dtype == torch.bool):
            raise InputError(
                f"{path}: {name}: expected {'a bool or integer mask' if mask else 'integer ids'}, got {t.dtype}"
            )
        if t.dim() != ndim:
            raise InputError(f"{needs}: {name} has shape {tuple(t.shape)}")
        budget.take(t.numel(), f"{path}: {name}")
    mask = obj["audio_input_ids_mask"]
    if mask.dtype != torch.bool and not ((mask == 0) | (mask == 1)).all():
        raise InputError(f"{path}: audio_input_ids_mask: expected 0/1 values")
    try:
        audio = sample_audio(obj)
    except (KeyError, ValueError) as e:
        raise InputError(f"{needs}: {e}") from None
    if len(audio) != n:
        raise InputError(f"{path}: audio_labels: {len(audio)} sample(s), input_ids has {n}")
    return audio


def _npz_member(z: zipfile.ZipFile, key: str) -> Optional[str]:
    """The archive member numpy.load(FILE)[key] reads: the name itself, or the name with .npy."""
    names = set(z.namelist())
    return key if key in names else (key + ".npy" if key + ".npy" in names else None)


def _npz_array(z: zipfile.ZipFile, member: str, where: str, limits: Limits, used: List[int]) -> np.ndarray:
    """One array of an .npz, its declared size (from the .npy header) checked against --max-bytes before any
    of its data is decompressed; object arrays (pickles) are never read."""
    key = member[:-4] if member.endswith(".npy") else member
    try:
        with z.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        if dtype.hasobject:
            raise ValueError(f"an object array ({dtype}): not read (no pickles)")
        if any(d < 0 for d in shape):
            raise ValueError(f"invalid shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if used[0] + nbytes > limits.max_bytes:
            raise InputError(
                too_many_bytes(where.rstrip(": "), f"array {key!r} ({dtype}, shape {shape}) holds", limits, nbytes)
                + (f" ({used[0]:,} bytes read before it)" if used[0] else "")
            )
        used[0] += nbytes
        with z.open(member) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except InputError:
        raise
    except Exception as e:  # ValueError (header, EOF), zipfile.BadZipFile (CRC), zlib.error, OSError
        raise InputError(f"{where}{key}: cannot read the array: {type(e).__name__}: {e}") from None


def _load_npz(path: Path, limits: Limits, budget: Budget) -> List[Sample]:
    where = f"{path}: "
    try:
        z = zipfile.ZipFile(path)
    except Exception as e:  # BadZipFile, OSError, ValueError
        raise InputError(f"{path}: numpy.load failed: not an .npz (zip) archive: {type(e).__name__}: {e}") from None
    with z:
        # Only the arrays used are read: an unused array is never decompressed.
        files = sorted({n[:-4] if n.endswith(".npy") else n for n in z.namelist()})
        members = {
            k: _npz_member(z, k)
            for k in ("input_ids", "labels", "label_ids", "attention_mask", "offsets", "start_index")
        }
        present = {k: m for k, m in members.items() if m is not None}
        if "input_ids" not in present:
            shown = ", ".join(map(repr, files[:20])) + (", ..." if len(files) > 20 else "")
            raise InputError(f"{where}missing array 'input_ids' (arrays: [{shown}])")
        key = _label_key(present, where.rstrip(": "))
        used = [0]
        arrays = {
            k: _npz_array(z, present[k], where, limits, used)
            for k in present
            if k in ("input_ids", key, "attention_mask", "offsets", "start_index")
        }
    ids, labels = arrays["input_ids"], None if key is None else arrays[key]
    if "offsets" not in arrays:
        return _from_batch(ids, labels, arrays.get("attention_mask"), arrays.get("start_index"), where, budget)
    offsets = arrays["offsets"]
    if ids.ndim != 1:
        raise InputError(f"{where}input_ids: with 'offsets' expected flat 1-D ids, got shape {ids.shape}")
    if "attention_mask" in arrays:
        raise InputError(f"{where}attention_mask: not allowed with 'offsets' (ragged samples have no padding)")
    flat = _int_row(ids, f"{where}input_ids", budget)
    off = _int_row(offsets, f"{where}offsets", budget)
    if len(off) < 1 or off[0] != 0 or off[-1] != len(flat) or any(b < a for a, b in zip(off, off[1:])):
        raise InputError(
            f"{where}offsets: expected B+1 non-decreasing ints from 0 to len(input_ids)={len(flat)},"
            f" got {off[:4]}{' ...' if len(off) > 4 else ''} (last {off[-1] if off else None})"
        )
    flat_labels = None
    if labels is not None:
        if labels.shape != ids.shape:
            raise InputError(f"{where}{key}: shape {labels.shape} != input_ids shape {ids.shape}")
        flat_labels = _int_row(labels, f"{where}{key}", budget)
    n = len(off) - 1
    starts = _start_indices(arrays.get("start_index"), n, f"{where}start_index", budget)
    return [
        Sample(flat[a:b], None if flat_labels is None else flat_labels[a:b], starts[i])
        for i, (a, b) in enumerate(zip(off, off[1:]))
    ]


def _load_npz_file(path: Path, limits: Limits, budget: Budget):
    return _load_npz(path, limits, budget), None


# The formats read whole (a pickle or an archive cannot be streamed); the others stream (inspect_sources.py).
WHOLE_FILE_LOADERS = {".pt": _load_pt, ".npz": _load_npz_file}
