"""show_labels(): each sample's tokens, learned and masked, turn by turn, as a terminal shows them.

A line per turn (its index and role; "context" before the sample's start_index), the tokens decoded by a
local tokenizer (or their ids without one), learned spans green and masked ones grey on a terminal, and
[in brackets] where the output is not a terminal (a file, a pipe, a notebook). Padding, audio placeholders
and delay tokens are runs such as `<pad x8>`, `<audio x52>`, `<delay x7>`. The rows come from a collated
batch (ChatCollator, HiggsAudioV2Collator, HiggsAudioSampleCollator, packed or padded) or from features,
labelled as the collators label them (see show_labels).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import List, Optional

from ..common.labels import IGNORE
from ..common.learned import to_int_list
from ..higgs_hf.config import HIGGS_HF_IDS
from ..rolespan import presets
from ..rolespan.reference import mask_labels_with_turns
from ..rolespan.spec import RoleSpanSpec
from .local_tokenizer import LocalTokenizer, load_tokenizer

# The Higgs Audio placeholders marked in the views: transformers' (HiggsAudioV2Collator's defaults) and
# boson-multimodal's audio-in token (<|AUDIO|>, which transformers' format does not have).
AUDIO_TOKEN_ID = HIGGS_HF_IDS["audio_token_id"]
AUDIO_DELAY_TOKEN_ID = HIGGS_HF_IDS["audio_delay_token_id"]
AUDIO_IN_TOKEN_ID = 128015


@dataclass
class Token:
    id: int
    label: int
    kind: str  # "text", "pad", "delay", or the placeholder's name ("audio", "audio-in", "audio-out")
    column: int  # its column in the batch row

    @property
    def learned(self) -> bool:
        return self.label != IGNORE


@dataclass
class Line:
    title: str  # "padding", "outside turns", "turn 2 assistant", "turn 0 system (context)"
    tokens: List[Token]


@dataclass
class SampleLabels:
    """One sample of a batch, its padding removed: ids, labels, and where each token sits in its row."""

    index: int
    row: int
    ids: List[int]
    labels: List[int]
    columns: List[int]
    pad_columns: List[int]  # the row's padding columns (empty when packed or unpadded)
    start_index: Optional[int]
    turns: list  # rolespan.reference.Turn, over ids
    completion: bool = False  # the spec is completion-only: its turns are response spans

    @property
    def learned(self) -> int:
        return sum(v != IGNORE for v in self.labels)


@dataclass
class BatchLabels:
    """What the views show of one batch: its format, its samples and the placeholder ids it marks."""

    format: str  # "chat", "higgs_v2" (transformers) or "higgs_boson" (boson-multimodal)
    samples: List[SampleLabels]
    placeholders: dict  # token id -> kind ("audio", "audio-in", "audio-out", "delay")
    batch: object  # the collated batch (the clip pictures read its audio fields)


# ---------------------------------------------------------------------------------------------- reading


def batch_field(batch, name):
    """A field of a batch or a feature: a Mapping's key, else an attribute (None when absent)."""
    return batch.get(name) if isinstance(batch, Mapping) else getattr(batch, name, None)


def _format_of(batch) -> str:
    if isinstance(batch, Mapping):
        if "audio_labels" in batch or "audio_input_ids" in batch:
            return "higgs_v2"
        return "higgs_boson" if "label_audio_ids" in batch or "audio_out_ids" in batch else "chat"
    return "higgs_boson"


def _is_batch(x) -> bool:
    ids = batch_field(x, "input_ids")
    return getattr(ids, "ndim", None) == 2 or (
        isinstance(ids, (list, tuple)) and bool(ids) and isinstance(ids[0], (list, tuple))
    )


def _rows(value) -> List[List[int]]:
    return [to_int_list(r) for r in value]


def _per_sample(value, n: int, what: str) -> List[Optional[int]]:
    if value is None or isinstance(value, int):
        return [value] * n
    values = value.tolist() if hasattr(value, "tolist") else list(value)
    if len(values) != n:
        raise ValueError(f"{what}: expected one entry per sample ({n}), got {len(values)}")
    return [None if v is None else int(v) for v in values]


def _features_batch(features, spec: RoleSpanSpec, audio_token_id: int):
    """Features labelled as the collators label them: their own labels where they carry them, else the spec's
    (as ChatCollator); features with `audio_codes` are collated by HiggsAudioV2Collator(label_mode="correct")."""
    if any(batch_field(f, "audio_codes") is not None for f in features):
        from ..higgs_hf import HiggsAudioV2Collator

        keys = ("input_ids", "audio_codes", "start_index", "audio_no_train")
        rows = [{k: batch_field(f, k) for k in keys if batch_field(f, k) is not None} for f in features]
        collator = HiggsAudioV2Collator(
            pad_token_id=128001,
            label_mode="correct",
            label_spec=spec,
            audio_token_id=audio_token_id,
            on_empty="keep",
            padding_side="right",
        )
        return collator(rows), [r.get("start_index") for r in rows]
    ids, labels, starts = [], [], []
    for i, f in enumerate(features):
        if batch_field(f, "input_ids") is None:
            raise ValueError(f"sample {i}: has no input_ids")
        row = to_int_list(batch_field(f, "input_ids"))
        start = batch_field(f, "start_index")
        given = batch_field(f, "labels")
        given = batch_field(f, "label_ids") if given is None else given
        ids.append(row)
        labels.append(to_int_list(given) if given is not None else mask_labels_with_turns(row, spec, start)[0])
        if len(labels[-1]) != len(row):
            raise ValueError(f"sample {i}: labels has {len(labels[-1])} tokens, input_ids has {len(row)}")
        starts.append(None if start is None else int(start))
    return {"input_ids": ids, "labels": labels}, starts


def read_batch(
    batch_or_features,
    spec: Optional[RoleSpanSpec] = None,
    start_index=None,
    *,
    audio_token_id: int = AUDIO_TOKEN_ID,
    audio_in_token_id: int = AUDIO_IN_TOKEN_ID,
    audio_delay_token_id: int = AUDIO_DELAY_TOKEN_ID,
) -> BatchLabels:
    """The samples of a collated batch or of features (see show_labels), with their turns under `spec`."""
    spec = presets.llama3() if spec is None else spec
    x = batch_or_features
    if isinstance(x, (list, tuple)) or (not _is_batch(x) and batch_field(x, "input_ids") is not None):
        features = list(x) if isinstance(x, (list, tuple)) else [x]
        if not features:
            raise ValueError("batch_or_features: is empty")
        x, feature_starts = _features_batch(features, spec, audio_token_id)
        start_index = feature_starts if start_index is None else start_index
    if batch_field(x, "input_ids") is None:
        raise ValueError(
            f"batch_or_features: expected a collated batch (a dict or batch object with input_ids and labels) "
            f"or a list of features, got {type(x).__name__}"
        )
    fmt = _format_of(x)
    labels = batch_field(x, "labels")
    labels = batch_field(x, "label_ids") if labels is None else labels
    if labels is None:
        raise ValueError(
            "batch: has no labels (nor label_ids); collate with labels, or pass the features to show the "
            "labels the spec gives"
        )
    ids_rows, label_rows = _rows(batch_field(x, "input_ids")), _rows(labels)
    mask = batch_field(x, "attention_mask")
    mask_rows = _rows(mask) if mask is not None and getattr(mask, "ndim", 2) == 2 else None
    cu = batch_field(x, "cu_seq_lens_q")

    spans = []  # (row, [columns of the sample's tokens], [padding columns])
    if cu is not None:  # packed: one row, samples delimited by cu_seq_lens_q
        bounds = to_int_list(cu)
        spans = [(0, list(range(a, b)), []) for a, b in zip(bounds, bounds[1:])]
    else:
        for r, row in enumerate(ids_rows):
            keep = [c for c in range(len(row)) if mask_rows is None or mask_rows[r][c] != 0]
            spans.append((r, keep, [c for c in range(len(row)) if mask_rows is not None and mask_rows[r][c] == 0]))
    if start_index is None:
        start_index = batch_field(x, "start_index")
    starts = _per_sample(start_index, len(spans), "start_index")

    samples = []
    for i, ((r, cols, pads), start) in enumerate(zip(spans, starts)):
        if len(label_rows[r]) != len(ids_rows[r]):
            raise ValueError(
                f"batch: row {r}: labels has {len(label_rows[r])} columns, input_ids has {len(ids_rows[r])}"
            )
        ids = [ids_rows[r][c] for c in cols]
        samples.append(
            SampleLabels(
                i,
                r,
                ids,
                [label_rows[r][c] for c in cols],
                cols,
                pads,
                start,
                mask_labels_with_turns(ids, spec, start)[1],
                spec.mode == "completion",
            )
        )
    if fmt == "higgs_v2":
        placeholders = {audio_token_id: "audio", audio_delay_token_id: "delay"}
    elif fmt == "higgs_boson":
        placeholders = {audio_token_id: "audio-out", audio_in_token_id: "audio-in"}
    else:
        placeholders = {}
    return BatchLabels(fmt, samples, placeholders, x)


# ---------------------------------------------------------------------------------------------- lines


def lines_of(sample: SampleLabels, placeholders: dict) -> List[Line]:
    """The sample as lines: padding, the gaps between turns, and each turn (header and content)."""

    def tokens(a, b):
        return [
            Token(sample.ids[j], sample.labels[j], placeholders.get(sample.ids[j], "text"), sample.columns[j])
            for j in range(a, b)
        ]

    pads = [Token(-1, IGNORE, "pad", c) for c in sample.pad_columns]
    first = sample.columns[0] if sample.columns else None
    before = [t for t in pads if first is None or t.column < first]
    after = [t for t in pads if first is not None and t.column > first]
    lines = [Line("padding", before)] if before else []
    pos = 0
    for t in sample.turns:
        if t.header_begin > pos:
            lines.append(Line("outside turns", tokens(pos, t.header_begin)))
        role = "response" if sample.completion else (t.role or "unknown role")
        context = sample.start_index is not None and t.learned_role and not t.selected
        lines.append(Line(f"turn {t.index} {role}" + (" (context)" if context else ""), tokens(t.header_begin, t.end)))
        pos = max(pos, t.end)
    if pos < len(sample.ids) or not sample.ids:
        lines.append(Line("outside turns", tokens(pos, len(sample.ids))))
    if after:
        lines.append(Line("padding", after))
    return lines


def runs(tokens: List[Token]):
    """Consecutive tokens of one kind and one learned state: (kind, learned, tokens)."""
    out = []
    for t in tokens:
        if out and out[-1][0] == t.kind and out[-1][1] == t.learned:
            out[-1][2].append(t)
        else:
            out.append((t.kind, t.learned, [t]))
    return out


# A token's text is the tokenizer's, and a hostile tokenizer can make it any bytes: control characters (C0, DEL,
# C1) would drive the terminal the view is printed on (ESC sequences retitle it, recolor it, ...), so every one
# is shown as an escape, never written raw.
_ESCAPES = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))},
    ord("\\"): "\\\\",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def token_text(token_id: int, tokenizer: Optional[LocalTokenizer]) -> str:
    """One token as the views print it: its text with backslashes, newlines, tabs and every other control
    character escaped (\\n, \\x1b, ...), or its id."""
    if tokenizer is None:
        return str(token_id)
    piece = tokenizer.piece(token_id)
    if piece is None or piece == "":
        return f"#{token_id}"
    return piece.translate(_ESCAPES)


def sample_header(s: SampleLabels) -> str:
    n = len(s.ids)
    head = f"sample {s.index}: {n} token{'' if n == 1 else 's'}, {s.learned} learned, {n - s.learned} masked"
    if s.pad_columns:
        head += f", {len(s.pad_columns)} padding"
    return head + (f"; start_index={s.start_index}" if s.start_index is not None else "")


# ---------------------------------------------------------------------------------------------- terminal

ANSI = {
    "learned": "\x1b[1;32m",
    "masked": "\x1b[90m",
    "pad": "\x1b[2;37m",
    "audio": "\x1b[35m",
    "delay": "\x1b[33m",
    "title": "\x1b[1;36m",
    "reset": "\x1b[0m",
}
PLAIN_LEGEND = "legend: [learned] masked; runs: <pad xN> <audio xN> <delay xN>; one line per turn"


def _run_text(kind: str, group: List[Token], tokenizer) -> str:
    if kind == "text":
        return ("" if tokenizer is not None else " ").join(token_text(t.id, tokenizer) for t in group)
    return f"<{kind} x{len(group)}>"


def _line_text(line: Line, tokenizer, color: bool) -> str:
    parts = []
    for kind, learned, group in runs(line.tokens):
        text = _run_text(kind, group, tokenizer)
        if color:
            style = (
                "learned"
                if learned
                else (kind if kind in ("pad", "delay") else "audio" if kind != "text" else "masked")
            )
            parts.append(f"{ANSI[style]}{text}{ANSI['reset']}")
        else:
            parts.append(f"[{text}]" if learned else text)
    return ("" if tokenizer is not None else " ").join(parts)


def format_labels(view: BatchLabels, tokenizer=None, *, color: bool = False, samples=None) -> str:
    """The token view of `view` (read_batch's result) as text; ANSI colors when `color`, else [brackets]."""
    tok = load_tokenizer(tokenizer)
    if samples is not None:
        bad = [i for i in samples if not -len(view.samples) <= i < len(view.samples)]
        if bad:
            raise ValueError(f"samples: {bad[0]} is out of range; the batch has {len(view.samples)} sample(s)")
    chosen = view.samples if samples is None else [view.samples[i] for i in samples]
    if color:
        legend = (
            f"legend: {ANSI['learned']}learned{ANSI['reset']} {ANSI['masked']}masked{ANSI['reset']} "
            f"{ANSI['pad']}<pad xN>{ANSI['reset']} {ANSI['audio']}<audio xN>{ANSI['reset']} "
            f"{ANSI['delay']}<delay xN>{ANSI['reset']}; one line per turn"
        )
    else:
        legend = PLAIN_LEGEND
    out = [legend]
    for s in chosen:
        out.append(sample_header(s))
        lines = lines_of(s, view.placeholders)
        width = max((len(line.title) for line in lines), default=0)
        for line in lines:
            title = f"{line.title:<{width}}"
            if color:
                title = f"{ANSI['title']}{title}{ANSI['reset']}"
            out.append(f"  {title}  {_line_text(line, tok, color)}".rstrip())
    return "\n".join(out)


def show_labels(
    batch_or_features,
    tokenizer=None,
    *,
    spec: Optional[RoleSpanSpec] = None,
    start_index=None,
    samples=None,
    color: Optional[bool] = None,
    file=None,
    audio_token_id: int = AUDIO_TOKEN_ID,
    audio_in_token_id: int = AUDIO_IN_TOKEN_ID,
    audio_delay_token_id: int = AUDIO_DELAY_TOKEN_ID,
) -> None:
    """Prints each sample's tokens, learned and masked, one line per turn.

    `batch_or_features`: a collated batch (ChatCollator's or HiggsAudioV2Collator's dict, padded or packed;
    a HiggsAudioSampleCollator batch) whose labels are shown as they are; or features (a list of Mappings or
    objects with `input_ids`, and `labels`, `start_index`, `audio_codes` where they have them), labelled
    as the collators would: their own labels, else the `spec`'s; features with `audio_codes` are collated by
    `HiggsAudioV2Collator(label_mode="correct", label_spec=spec)` first.

    `tokenizer`: a folder holding `tokenizer.json` (read offline), or a tokenizer object; without one the
    ids are shown. `spec` finds the turns and their roles (default: the tokenizer's Llama-3 or ChatML
    template, else `presets.llama3()`); `start_index` (an int, or one per sample) marks the turns before it as
    context (default: the features' or the batch's own). `samples`: the indices to show (default all).
    `color`: ANSI colors (default: when `file` is a terminal and NO_COLOR is not set); without colors the
    learned spans are [in brackets]. `file`: where to print (default sys.stdout). The audio placeholder and
    delay ids default to the released Higgs Audio v2 vocabulary's.
    """
    tok = load_tokenizer(tokenizer)
    if spec is None and tok is not None:
        spec = tok.chat_spec()
    view = read_batch(
        batch_or_features,
        spec,
        start_index,
        audio_token_id=audio_token_id,
        audio_in_token_id=audio_in_token_id,
        audio_delay_token_id=audio_delay_token_id,
    )
    file = sys.stdout if file is None else file
    if color is None:
        color = bool(getattr(file, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    print(format_labels(view, tok, color=color, samples=samples), file=file)
