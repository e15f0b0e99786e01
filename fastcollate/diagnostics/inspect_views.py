"""`fastcollate inspect FILE --tokenizer DIR --html report.html`: the token view and the HTML report of a file.

A .pt file holding a collated batch (a dict with 2-D input_ids and labels: ChatCollator's, HiggsAudioV2Collator's,
a HiggsAudioSampleCollator batch's fields) is shown as it is, padding, placeholders and audio labels included;
any other file as its samples (inspect's reading of it), with the spec's labels where the file gives none.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

import torch

from .html_report import html_report
from .inspect_files import InputError
from .local_tokenizer import load_tokenizer
from .token_view import format_labels, read_batch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tokenizer",
        metavar="DIR",
        default=None,
        help="a folder with tokenizer.json (read offline): print each sample's tokens, learned [in brackets]",
    )
    parser.add_argument(
        "--html",
        metavar="FILE",
        default=None,
        help="write a self-contained HTML report: a chart per sample, the tokens, a picture of every clip's labels",
    )


def prepare(args):
    """The tokenizer (or None); an unreadable tokenizer or an unwritable report path is bad input (exit 2)."""
    try:
        tok = load_tokenizer(getattr(args, "tokenizer", None))
    except ValueError as e:
        raise InputError(f"--tokenizer: {e}") from None
    html_path = getattr(args, "html", None)
    if html_path is not None:
        if html_path == "":
            raise InputError("--html: expected a file name for the report, got ''")
        if Path(html_path).is_dir():
            raise InputError(f"--html: {html_path}: is a folder; name the report's file, e.g. {html_path}/report.html")
        if not Path(html_path).resolve().parent.is_dir():
            raise InputError(f"--html: {html_path}: its folder does not exist")
        # Opened for writing now, before the file is inspected: a path that cannot be written fails at once.
        try:
            with open(html_path, "w", encoding="utf-8"):
                pass
        except OSError as e:
            raise InputError(f"--html: {html_path}: cannot write the report ({e.strerror or e})") from None
    return tok


def _collated_batch(path) -> Optional[dict]:
    """The dict of a .pt file that holds a collated batch (2-D input_ids with labels), else None. The file has
    passed inspect's reading (its limits included) before this second, identical torch.load."""
    if Path(path).suffix.lower() != ".pt":
        return None
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict):
        return None
    ids = obj.get("input_ids")
    has_labels = obj.get("labels") is not None or obj.get("label_ids") is not None
    return obj if isinstance(ids, torch.Tensor) and ids.dim() == 2 and has_labels else None


def wanted(args) -> bool:
    """Whether --tokenizer or --html asks for the views (inspect then keeps the samples it reads for them)."""
    return getattr(args, "tokenizer", None) is not None or getattr(args, "html", None) is not None


def _view_input(args, samples: dict, spec):
    """(batch or features, start indices, the indices of the inspected samples in it)."""
    chosen = sorted(samples)
    batch = _collated_batch(args.file)
    if batch is not None and batch.get("cu_seq_lens_q") is None and chosen[-1] < batch["input_ids"].shape[0]:
        starts = [samples[i].start_index if i in samples else None for i in range(batch["input_ids"].shape[0])]
        return batch, starts, chosen
    features = []
    for i in chosen:
        s = samples[i]
        f = {"input_ids": s.input_ids, "start_index": s.start_index}
        if s.labels is not None:
            f["labels"] = s.labels
        features.append(f)
    return features, [samples[i].start_index for i in chosen], None


def emit(tok, args, samples: Optional[dict], spec, out) -> None:
    """Prints the token view (with --tokenizer) and writes the report (with --html) of the inspected samples
    (index -> Sample; None when neither is asked for); InputError when they cannot be shown or written."""
    if not samples:
        return
    try:
        _emit(tok, args, samples, spec, out)
    # What the views raise on a batch they cannot show: a malformed field (ValueError, IndexError, KeyError),
    # a report that cannot be written (OSError).
    except (OSError, ValueError, IndexError, KeyError) as e:
        what = "--html" if getattr(args, "html", None) is not None else "--tokenizer"
        first = str(e).splitlines()[0][:300] if str(e) else ""
        raise InputError(f"{what}: {args.file}: cannot show this file: {type(e).__name__}: {first}") from None


def _emit(tok, args, samples: dict, spec, out) -> None:
    data, starts, shown = _view_input(args, samples, spec)
    view = read_batch(data, spec, starts)
    if shown is None:  # the inspected samples as features: numbered as in the file
        for s, i in zip(view.samples, sorted(samples)):
            s.index = i
    if tok is not None:
        print("=== tokens (labels as given; the spec's where the file has none) ===", file=out)
        print(format_labels(view, tok, samples=shown), file=out)
        print(file=out)
    if getattr(args, "html", None) is not None:
        report = html_report(view, tok, title=f"fastcollate inspect {args.file}")
        Path(args.html).write_text(report, encoding="utf-8")
        print(f"report: {args.html}", file=out)
        print(file=out)
