"""Loading the samples `python -m fastcollate inspect` reads: .jsonl, .pt and .npz (formats: inspect_cli.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch


class InputError(ValueError):
    """Bad input (file, format or arguments): reported on stderr with exit status 2."""


@dataclass
class Sample:
    input_ids: List[int]
    labels: Optional[List[int]]
    start_index: Optional[int]


# ---------------------------------------------------------------------------------------------- conversion


def _int_row(value, what: str) -> List[int]:
    """A 1-D integer sequence (tensor, array, list) as a list of Python ints."""
    if isinstance(value, torch.Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise InputError(f"{what}: expected integer ids, got a {value.dtype} tensor")
        if value.dim() != 1:
            raise InputError(f"{what}: expected 1-D, got shape {tuple(value.shape)}")
        return [int(v) for v in value.tolist()]
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu":
            raise InputError(f"{what}: expected integer ids, got a {value.dtype} array")
        if value.ndim != 1:
            raise InputError(f"{what}: expected 1-D, got shape {value.shape}")
        return [int(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        bad = next((v for v in value if isinstance(v, bool) or not isinstance(v, (int, np.integer))), None)
        if bad is not None:
            raise InputError(f"{what}: expected a list of ints, found {bad!r} ({type(bad).__name__})")
        return [int(v) for v in value]
    raise InputError(f"{what}: expected a list of ints or a 1-D integer tensor, got {type(value).__name__}")


def _rows(value, what: str) -> List[List[int]]:
    """One sample (1-D) or a batch (2-D tensor/array, or a list of rows) as a list of int lists."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim == 1:
            return [_int_row(value, what)]
        if value.ndim == 2:
            return [_int_row(value[i], f"{what}[{i}]") for i in range(value.shape[0])]
        raise InputError(f"{what}: expected 1-D (one sample) or 2-D (batch, tokens), got shape {tuple(value.shape)}")
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            return [_int_row(value, what)]
        return [_int_row(v, f"{what}[{i}]") for i, v in enumerate(value)]
    raise InputError(f"{what}: expected a tensor, an array or a list of lists of ints, got {type(value).__name__}")


def _start_indices(value, n: int, what: str) -> List[Optional[int]]:
    if value is None:
        return [None] * n
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if n != 1:
            raise InputError(f"{what}: a single int is only allowed for one sample; give one per sample ({n})")
        return [int(value)]
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{what}: expected one int (or None) per sample, got {type(value).__name__}")
    if len(value) != n:
        raise InputError(f"{what}: expected {n} entries (one per sample), got {len(value)}")
    out = []
    for i, v in enumerate(value):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise InputError(f"{what}[{i}]: expected an int or None, got {v!r}")
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


def _from_batch(ids, labels, mask, start, where: str) -> List[Sample]:
    """Samples from batch-layout fields (1-D, 2-D or list of rows), padding removed where mask == 0."""
    id_rows = _rows(ids, f"{where}input_ids")
    n = len(id_rows)
    label_rows = None
    if labels is not None:
        label_rows = _rows(labels, f"{where}labels")
        if len(label_rows) != n:
            raise InputError(f"{where}labels: {len(label_rows)} sample(s), input_ids has {n}")
    if mask is not None:
        if isinstance(mask, np.ndarray):
            mask = torch.from_numpy(mask) if mask.dtype.kind in "biuf" else mask  # other kinds: _rows says why
        if isinstance(mask, torch.Tensor):
            if mask.dtype.is_floating_point or mask.dtype.is_complex:
                raise InputError(f"{where}attention_mask: expected an integer or bool mask, got {mask.dtype}")
            mask = mask.long()
        mask_rows = _rows(mask, f"{where}attention_mask")
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
    starts = _start_indices(start, n, f"{where}start_index")
    samples = [Sample(id_rows[i], None if label_rows is None else label_rows[i], starts[i]) for i in range(n)]
    return _check_lengths(samples, where)


# ---------------------------------------------------------------------------------------------- loaders


def _load_jsonl(path: Path) -> List[Sample]:
    samples = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e})") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}: "
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}invalid JSON ({e})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}expected a JSON object with 'input_ids', got {type(obj).__name__}")
        if "input_ids" not in obj:
            raise InputError(f"{where}missing 'input_ids' (keys: {sorted(obj)})")
        ids = _int_row(obj["input_ids"], f"{where}input_ids")
        key = _label_key(obj, where.rstrip(": "))
        labels = None if key is None or obj[key] is None else _int_row(obj[key], f"{where}{key}")
        start = _start_indices(obj.get("start_index"), 1, f"{where}start_index")[0]
        if labels is not None and len(labels) != len(ids):
            raise InputError(f"{where}{key} has {len(labels)} tokens, input_ids has {len(ids)}")
        samples.append(Sample(ids, labels, start))
    return samples


def _load_pt(path: Path) -> List[Sample]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types (UnpicklingError, RuntimeError, EOFError); keep its message
        raise InputError(
            f"{path}: torch.load(weights_only=True) failed: {type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}"
        ) from None
    if isinstance(obj, dict):
        return _from_dict(obj, f"{path}: ")
    if isinstance(obj, (list, tuple)):
        if not all(isinstance(d, dict) for d in obj):
            raise InputError(f"{path}: a list must hold one dict per sample")
        samples = []
        for i, d in enumerate(obj):
            one = _from_dict(d, f"{path}: [{i}] ")
            if len(one) != 1:
                raise InputError(f"{path}: [{i}] input_ids: expected one sample (1-D), got {len(one)} rows")
            samples += one
        return samples
    raise InputError(
        f"{path}: expected a dict with 'input_ids' or a list of per-sample dicts, got {type(obj).__name__}"
    )


def _from_dict(d: dict, where: str) -> List[Sample]:
    if "input_ids" not in d:
        raise InputError(f"{where}missing 'input_ids' (keys: {sorted(map(str, d))})")
    key = _label_key(d, where.rstrip(": "))
    return _from_batch(
        d["input_ids"], None if key is None else d[key], d.get("attention_mask"), d.get("start_index"), where
    )


def _load_npz(path: Path) -> List[Sample]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # BadZipFile, ValueError (object arrays), OSError; keep the message
        raise InputError(f"{path}: numpy.load failed: {type(e).__name__}: {e}") from None
    where = f"{path}: "
    if "input_ids" not in arrays:
        raise InputError(f"{where}missing array 'input_ids' (arrays: {sorted(arrays)})")
    key = _label_key(arrays, where.rstrip(": "))
    ids, labels = arrays["input_ids"], None if key is None else arrays[key]
    if "offsets" not in arrays:
        return _from_batch(ids, labels, arrays.get("attention_mask"), arrays.get("start_index"), where)
    offsets = arrays["offsets"]
    if ids.ndim != 1:
        raise InputError(f"{where}input_ids: with 'offsets' expected flat 1-D ids, got shape {ids.shape}")
    if "attention_mask" in arrays:
        raise InputError(f"{where}attention_mask: not allowed with 'offsets' (ragged samples have no padding)")
    flat = _int_row(ids, f"{where}input_ids")
    off = _int_row(offsets, f"{where}offsets")
    if len(off) < 1 or off[0] != 0 or off[-1] != len(flat) or any(b < a for a, b in zip(off, off[1:])):
        raise InputError(
            f"{where}offsets: expected B+1 non-decreasing ints from 0 to len(input_ids)={len(flat)},"
            f" got {off[:4]}{' ...' if len(off) > 4 else ''} (last {off[-1] if off else None})"
        )
    flat_labels = None
    if labels is not None:
        if labels.shape != ids.shape:
            raise InputError(f"{where}{key}: shape {labels.shape} != input_ids shape {ids.shape}")
        flat_labels = _int_row(labels, f"{where}{key}")
    n = len(off) - 1
    starts = _start_indices(arrays.get("start_index"), n, f"{where}start_index")
    return [
        Sample(flat[a:b], None if flat_labels is None else flat_labels[a:b], starts[i])
        for i, (a, b) in enumerate(zip(off, off[1:]))
    ]


LOADERS = {".jsonl": _load_jsonl, ".pt": _load_pt, ".npz": _load_npz}


def load_samples(path) -> List[Sample]:
    """The samples of a .jsonl, .pt or .npz file (see the module docstring); InputError on bad input."""
    path = Path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise InputError(f"{path}: unknown file type {path.suffix!r}; expected one of {sorted(LOADERS)}")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        samples = loader(path)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    if not samples:
        raise InputError(f"{path}: no samples found")
    return samples


def load_higgs_hf_audio(path):
    """Per sample audio summaries (higgs_hf_audio.SampleAudio) of a .pt file holding a transformers Higgs Audio
    v2 batch (a dict with audio_input_ids, audio_input_ids_mask and audio_labels); None for any other file."""
    path = Path(path)
    if path.suffix.lower() != ".pt":
        return None
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict) or "audio_labels" not in obj:
        return None
    from .higgs_hf_audio import sample_audio

    try:
        return sample_audio(obj)
    except (KeyError, ValueError) as e:
        raise InputError(
            f"{path}: a Higgs Audio v2 batch needs audio_input_ids, audio_input_ids_mask and "
            f"audio_labels of shapes (B, T, K), (B, T), (B, T, K): {e}"
        ) from None
