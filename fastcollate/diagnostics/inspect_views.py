"""`fastcollate inspect FILE --tokenizer DIR --html report.html`: the token view and the HTML report of a file.

A .pt file holding a collated batch (a dict with 2-D input_ids and labels: ChatCollator's, HiggsAudioV2Collator's,
a HiggsAudioSampleCollator batch's fields) is shown as it is, padding, placeholders and audio labels included;
any other file as its samples (inspect's reading of it), with the spec's labels where the file gives none.
A packed batch (cu_seq_lens_q) is one row, inspect's one sample; the views show each sample packed in it.

The views keep whole samples, from the first, up to --view-max-tokens tokens (--sample N shows sample N
whatever its size): a streamed file stays streamed and the report stays a size a browser opens; the output
and the report say what was left out. inspect's verdict covers every sample regardless.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

import torch

from .html_report import html_report
from .inspect_files import InputError, positive_count
from .local_tokenizer import load_tokenizer
from .token_view import BatchLabels, format_labels, read_batch

# About 9 MB of HTML (some 90 bytes a token), which a browser opens at once.
DEFAULT_VIEW_MAX_TOKENS = 100_000


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
    parser.add_argument(
        "--view-max-tokens",
        metavar="N",
        type=positive_count,
        default=DEFAULT_VIEW_MAX_TOKENS,
        help="the most tokens --tokenizer and --html show, in whole samples from the first (default: "
        f"{DEFAULT_VIEW_MAX_TOKENS}; --sample N shows sample N whatever its size)",
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


class Viewed(dict):
    """The samples the views show (index -> Sample): whole samples, from the first, up to max_tokens tokens
    (None: no limit); the ones after are only counted."""

    def __init__(self, max_tokens: Optional[int]):
        super().__init__()
        self.max_tokens, self.tokens, self.left_out = max_tokens, 0, 0

    def keep(self, i: int, sample) -> None:
        n = len(sample.input_ids)
        if self.max_tokens is not None and (self.left_out or self.tokens + n > self.max_tokens):
            self.left_out += 1
            return
        self[i] = sample
        self.tokens += n


def viewed(args) -> Optional[Viewed]:
    """Where inspect keeps the samples it reads for the views; None when neither view is asked for."""
    if not wanted(args):
        return None
    # --sample picks one sample: it is shown, whatever its size.
    limit = None if getattr(args, "sample", None) is not None else getattr(args, "view_max_tokens", None)
    return Viewed(limit)


def _cut_note(samples: Viewed) -> Optional[str]:
    left_out = samples.left_out
    if not left_out:
        return None
    shown = f"samples {min(samples)} to {max(samples)}" if samples else "no sample"
    return (
        f"the views show {shown} ({samples.tokens:,} tokens; --view-max-tokens {samples.max_tokens}); "
        f"{left_out:,} later sample(s) left out (inspected all the same); --sample N shows one"
    )


def _view_input(args, samples: dict, spec):
    """(batch or features, start indices, the batch rows of the inspected samples; None for features)."""
    chosen = sorted(samples)
    batch = _collated_batch(args.file)
    rows = None if batch is None else batch["input_ids"].shape[0]
    if batch is not None and chosen[-1] < rows:
        cu = batch.get("cu_seq_lens_q")
        if cu is None:
            starts = [samples[i].start_index if i in samples else None for i in range(rows)]
        else:  # packed: one row, inspect's sample 0; the samples packed in it take its start_index
            starts = [samples[0].start_index if 0 in samples else None] * (len(cu) - 1)
        return batch, starts, set(chosen)
    features = []
    for i in chosen:
        s = samples[i]
        f = {"input_ids": s.input_ids, "start_index": s.start_index}
        if s.labels is not None:
            f["labels"] = s.labels
        features.append(f)
    return features, [samples[i].start_index for i in chosen], None


def emit(tok, args, samples: Optional[Viewed], spec, out) -> None:
    """Prints the token view (with --tokenizer) and writes the report (with --html) of the inspected samples
    (index -> Sample; None when neither is asked for); InputError when they cannot be shown or written."""
    if samples is None:
        return
    try:
        _emit(tok, args, samples, spec, out)
    # What the views raise on a batch they cannot show: a malformed field (ValueError, IndexError, KeyError),
    # a report that cannot be written (OSError).
    except (OSError, ValueError, IndexError, KeyError) as e:
        what = "--html" if getattr(args, "html", None) is not None else "--tokenizer"
        first = str(e).splitlines()[0][:300] if str(e) else ""
        raise InputError(f"{what}: {args.file}: cannot show this file: {type(e).__name__}: {first}") from None


def _emit(tok, args, samples: Viewed, spec, out) -> None:
    note = _cut_note(samples)
    if note is not None:
        print(f"!! {note}", file=out)
        print(file=out)
    shown = None
    if not samples:  # none inspected, or none fits the limit: the report says so, and shows none
        if getattr(args, "html", None) is None:
            return
        view = BatchLabels("none", [], {}, {})
    else:
        data, starts, rows = _view_input(args, samples, spec)
        view = read_batch(data, spec, starts)
        if rows is None:  # the inspected samples as features: numbered as in the file
            for s, i in zip(view.samples, sorted(samples)):
                s.index = i
        else:  # the samples in the inspected rows of the batch
            shown = [j for j, s in enumerate(view.samples) if s.row in rows]
    if tok is not None and samples:
        print("=== tokens (labels as given; the spec's where the file has none) ===", file=out)
        print(format_labels(view, tok, samples=shown), file=out)
        print(file=out)
    if getattr(args, "html", None) is not None:
        report = html_report(view, tok, samples=shown, title=f"fastcollate inspect {args.file}", note=note)
        Path(args.html).write_text(report, encoding="utf-8")
        print(f"report: {args.html}", file=out)
        print(file=out)
