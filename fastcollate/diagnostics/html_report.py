"""One self-contained HTML file that shows what a batch learns (`fastcollate inspect FILE --html report.html`).

Three parts, all inline (CSS, SVG and data: PNGs; nothing is fetched, the file opens offline): a chart of each
sample's learned, masked and padding tokens; the token view (token_view.py), each token's id and label on
hover; and for every Higgs Audio clip, either format, a codebook x frame picture of its audio labels
(clip_picture.py) with the turn its placeholder sits in, so that a clip that never learns its stream EOS, or a
voice reference that is trained, shows at a glance.
"""

from __future__ import annotations

import base64
import html
from typing import List, Optional

from ..common.labels import IGNORE
from ..higgs_hf.config import HIGGS_HF_IDS
from .clip_picture import CELLS, Clip, clip_png, clips_of, summary
from .local_tokenizer import LocalTokenizer, load_tokenizer
from .token_view import (
    BatchLabels,
    Line,
    SampleLabels,
    batch_field,
    lines_of,
    read_batch,
    runs,
    sample_header,
    token_text,
)

# The summary chart's colors (exact in a screenshot: the browser test looks for them).
CHART = {"learned": (26, 152, 80), "masked": (189, 189, 189), "padding": (170, 190, 230)}
CHART_WIDTH = 600

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
.sample { margin: 0.8em 0; } .head { font-weight: bold; }
.line { font-family: monospace; white-space: pre-wrap; word-break: break-all; margin: 1px 0 1px 1em; }
.title { display: inline-block; min-width: 16em; color: #1f5f8b; font-weight: bold; }
.learned { background: #c7e9c0; color: #00441b; } .masked { color: #888; }
.pad { color: #aaa; font-style: italic; } .audio { color: #8e44ad; } .delay { color: #b7950b; }
.learned.audio, .learned.delay { background: #c7e9c0; }
.swatch { display: inline-block; width: 1em; height: 1em; vertical-align: middle; margin: 0 0.3em 0 1em;
  border: 1px solid #666; }
.clip { margin: 0.8em 0; } .clip img { image-rendering: pixelated; display: block; border: 1px solid #999; }
.warn { color: #b00; font-weight: bold; }
"""


def _rgb(c) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _summary_svg(samples: List[SampleLabels]) -> str:
    """A bar per sample: learned, masked, padding tokens, to one scale; each segment's count on hover."""
    rows = [(s.index, (s.learned, len(s.ids) - s.learned, len(s.pad_columns))) for s in samples]
    widest = max((sum(counts) for _, counts in rows), default=1) or 1
    bar, gap, label_w = 18, 6, 90
    height = len(rows) * (bar + gap) + 30
    parts = [
        f'<svg id="summary-chart" xmlns="http://www.w3.org/2000/svg" width="{label_w + CHART_WIDTH + 10}" '
        f'height="{height}" role="img" aria-label="learned, masked and padding tokens per sample">'
    ]
    for row, (i, counts) in enumerate(rows):
        y = row * (bar + gap)
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="13">sample {i}</text>')
        x = label_w
        for name, n in zip(("learned", "masked", "padding"), counts):
            if not n:
                continue
            w = max(1, round(CHART_WIDTH * n / widest))
            parts.append(
                f'<rect class="{name}" x="{x}" y="{y}" width="{w}" height="{bar}" fill="{_rgb(CHART[name])}">'
                f"<title>sample {i}: {n} {name}</title></rect>"
            )
            x += w
    y = len(rows) * (bar + gap) + 14
    x = label_w
    for name, color in CHART.items():
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_rgb(color)}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}" font-size="12">{name}</text>')
        x += 110
    parts.append("</svg>")
    return "".join(parts)


def _label_text(label: int) -> str:
    return "-100 (masked)" if label == IGNORE else f"{label} (learned)"


def _line_html(line: Line, tok: Optional[LocalTokenizer]) -> str:
    spans = []
    for kind, learned, group in runs(line.tokens):
        state = "learned" if learned else "masked"
        if kind == "text":
            for t in group:
                text = token_text(t.id, tok) + ("" if tok is not None else " ")
                spans.append(
                    f'<span class="tok {state}" title="id {t.id} · label {_e(_label_text(t.label))} · column '
                    f'{t.column}">{_e(text)}</span>'
                )
            continue
        if kind == "pad":
            title = f"{len(group)} padding positions (columns {group[0].column}-{group[-1].column})"
        else:
            labels = sorted({t.label for t in group})
            shown = ", ".join(_label_text(v) for v in labels[:3]) + (", ..." if len(labels) > 3 else "")
            title = f"id {group[0].id} x{len(group)} ({kind}) · labels {shown}"
        spans.append(f'<span class="tok {kind} {state}" title="{_e(title)}">&lt;{kind} x{len(group)}&gt;</span> ')
    return f'<div class="line"><span class="title">{_e(line.title)}</span>' + "".join(spans) + "</div>"


def _tokens_html(view: BatchLabels, samples: List[SampleLabels], tok) -> str:
    parts = []
    for s in samples:
        parts.append(f'<div class="sample" id="sample-{s.index}"><div class="head">{_e(sample_header(s))}</div>')
        parts += [_line_html(line, tok) for line in lines_of(s, view.placeholders)]
        parts.append("</div>")
    return "".join(parts)


def _placeholder_runs(view: BatchLabels, row: int) -> List[tuple]:
    """(sample, position in it, clip of that sample) of each clip's placeholder in a batch row, in order:
    where a run of audio placeholders (transformers: the clip's frames; boson-multimodal: one <|AUDIO_OUT|>)
    begins."""
    names = {"audio", "audio-out"}
    out = []
    for s in view.samples:
        if s.row != row:
            continue
        prev, clip = None, 0
        for j, t in enumerate(s.ids):
            kind = view.placeholders.get(t)
            if kind in names and (prev not in names or view.format == "higgs_boson"):
                out.append((s, j, clip))  # a packed row holds several samples: clip counts within its sample
                clip += 1
            prev = kind
    return out


def _clip_place(view: BatchLabels, clip: Clip, runs_by_row: dict):
    """The clip's sample and the turn its placeholder sits in (None where it cannot be told)."""
    places = runs_by_row.setdefault(clip.sample, _placeholder_runs(view, clip.sample))
    if clip.index >= len(places):
        return None, None, clip.index
    sample, pos, index = places[clip.index]
    turn = next((t for t in sample.turns if t.header_begin <= pos < t.end), None)
    return sample, turn, index


def _clip_caption(view: BatchLabels, clip: Clip, runs_by_row: dict) -> tuple:
    sample, turn, index = _clip_place(view, clip, runs_by_row)
    where = f"row {clip.sample}" if sample is None else f"sample {sample.index}"
    if turn is not None:
        where += f", in turn {turn.index} ({turn.role or 'unknown role'})"
    warnings = []
    if not clip.ids.shape[1]:
        warnings.append("no frames: its segment of the audio is empty")
    if clip.eos_missing:
        warnings.append("never learns its stream EOS")
    if clip.learned and sample is not None and (turn is None or not turn.selected):
        warnings.append("learned, but its turn is not one the spec learns (a voice reference?)")
    if clip.learned_padding:
        warnings.append(f"learns {clip.learned_padding} padding cells (purple)")
    return f"{where}, clip {index}: {summary(clip)}", "; ".join(warnings)


def _shown_clips(view: BatchLabels, clips: List[Clip], samples: List[SampleLabels]) -> List[Clip]:
    """The clips of the shown samples: those whose placeholder sits in one, or, where that cannot be told, whose
    batch row holds one."""
    indices, rows, runs_by_row = {s.index for s in samples}, {s.row for s in samples}, {}
    kept = []
    for clip in clips:
        sample = _clip_place(view, clip, runs_by_row)[0]
        if (sample.index in indices) if sample is not None else (clip.sample in rows):
            kept.append(clip)
    return kept


def _clips_html(view: BatchLabels, clips: List[Clip]) -> str:
    legend = "".join(
        f'<span class="swatch" style="background:{_rgb(rgb)}"></span>{_e(name)}'
        for _, (name, rgb) in sorted(CELLS.items())
    )
    parts = [
        f'<p class="legend">{legend}</p>',
        "<p>Codebook 0 on top, frames left to right: each codebook's delay fills, stream BOS, codes, stream "
        "EOS and delay fills, as the model reads them.</p>",
    ]
    runs_by_row = {}
    for n, clip in enumerate(clips):
        caption, warning = _clip_caption(view, clip, runs_by_row)
        warn = f' <span class="warn">!! {_e(warning)}</span>' if warning else ""
        picture = ""
        if clip.ids.shape[1] + clip.padding:  # a clip with no frames has no picture: its caption says so
            data = base64.b64encode(clip_png(clip)).decode("ascii")
            picture = (
                f'<img class="clip-picture" alt="{_e(caption)}" title="{_e(caption)}" '
                f'src="data:image/png;base64,{data}">'
            )
        parts.append(f'<div class="clip" id="clip-{n}"><div>{_e(caption)}{warn}</div>{picture}</div>')
    return "".join(parts)


def html_report(
    batch_or_features,
    tokenizer=None,
    *,
    spec=None,
    start_index=None,
    samples=None,
    title: str = "fastcollate: what this batch learns",
    note: Optional[str] = None,
    audio_out_token_id: int = HIGGS_HF_IDS["audio_token_id"],
    audio_stream_bos_id: int = HIGGS_HF_IDS["audio_stream_bos_id"],
    audio_stream_eos_id: int = HIGGS_HF_IDS["audio_stream_eos_id"],
) -> str:
    """The report as a string (an HTML document): the same inputs as show_labels. `samples`: the indices of the
    samples shown, with their clips (default all); `note`: a line shown under the title (inspect says there
    what it left out)."""
    tok = load_tokenizer(tokenizer)
    if isinstance(batch_or_features, BatchLabels):  # already read (inspect numbers the samples as its file does)
        view = batch_or_features
    else:
        if spec is None and tok is not None:  # only a batch still to read needs the tokenizer's chat template
            spec = tok.chat_spec()
        view = read_batch(batch_or_features, spec, start_index, audio_token_id=audio_out_token_id)
    clips = clips_of(
        view.batch,
        audio_out_token_id=audio_out_token_id,
        stream_bos=audio_stream_bos_id,
        stream_eos=audio_stream_eos_id,
    )
    if samples is None:
        shown: List[SampleLabels] = view.samples
    else:
        bad = [i for i in samples if not -len(view.samples) <= i < len(view.samples)]
        if bad:
            raise ValueError(f"samples: {bad[0]} is out of range; the batch has {len(view.samples)} sample(s)")
        shown = [view.samples[i] for i in samples]
        clips = _shown_clips(view, clips, shown)
    learned = sum(s.learned for s in shown)
    tokens = sum(len(s.ids) for s in shown)
    packed = ""
    if batch_field(view.batch, "cu_seq_lens_q") is not None:
        packed = "; packed: one row, its samples delimited by cu_seq_lens_q"
    body = [
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(shown)} sample(s), {tokens} tokens, {learned} learned; format: {_e(view.format)}{packed}"
        f"{'' if tok is not None else '; ids shown (no tokenizer given)'}.</p>"
        if shown
        else "<p>No sample shown.</p>",
    ]
    if note:
        body.append(f'<p class="warn">{_e(note)}</p>')
    body += [
        "<h2>Summary</h2>",
        _summary_svg(shown),
        "<h2>Tokens</h2>",
        "<p>One line per turn; <span class='learned'>learned</span> and <span class='masked'>masked</span> "
        "tokens; hover a token for its id and label.</p>",
        _tokens_html(view, shown, tok),
    ]
    if clips:
        body += [f"<h2>Audio labels: {len(clips)} clip(s)</h2>", _clips_html(view, clips)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>" + "".join(body) + "</body></html>\n"
    )
