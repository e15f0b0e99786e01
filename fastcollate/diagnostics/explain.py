"""explain(): why each token of a sample is learned or masked under a RoleSpanSpec, as readable text.

With `labels`, also compares them token by token with the labels the spec gives, to find where a dataset's
precomputed labels and the spec disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from ..common.checks import check_start_index
from ..common.learned import to_int_list
from ..higgs_hf.config import HIGGS_HF_IDS
from ..rolespan.reference import IGNORE, mask_labels_with_turns
from ..rolespan.spec import RoleSpanSpec

MAX_MISMATCHES_SHOWN = 20


def _ids_of(sample_or_ids):
    if isinstance(sample_or_ids, Mapping):
        return sample_or_ids["input_ids"], sample_or_ids.get("start_index"), sample_or_ids.get("labels")
    if hasattr(sample_or_ids, "input_ids"):
        return (
            sample_or_ids.input_ids,
            getattr(sample_or_ids, "start_index", None),
            getattr(sample_or_ids, "label_ids", None),
        )
    return sample_or_ids, None, None


def _preview(ids, begin, end, limit=8) -> str:
    part = ids[begin:end]
    text = " ".join(str(t) for t in part[:limit])
    return text + (f" ... (+{len(part) - limit})" if len(part) > limit else "")


def _clips_of(sample_or_ids):
    """A HiggsAudioV2Collator feature's (audio_codes, audio_no_train), or None for any other input."""
    if isinstance(sample_or_ids, Mapping):
        codes, flags = sample_or_ids.get("audio_codes"), sample_or_ids.get("audio_no_train")
    else:
        codes, flags = getattr(sample_or_ids, "audio_codes", None), getattr(sample_or_ids, "audio_no_train", None)
    return None if codes is None else (list(codes), None if flags is None else [bool(f) for f in flags])


def _clip_lines(ids, computed, clips, audio_token_id: int):
    """HiggsAudioV2Collator(label_mode="correct"): a clip is learned where the spec learns its placeholder."""
    codes, flags = clips
    places = [p for p, t in enumerate(ids) if t == audio_token_id]
    if len(places) != len(codes):
        return [f"clips: {len(codes)} for {len(places)} audio placeholder(s) ({audio_token_id}); not explained"]
    lines = []
    for j, (p, c) in enumerate(zip(places, codes)):
        shape = tuple(getattr(c, "shape", None) or (len(c), len(c[0]) if len(c) else 0))
        if computed[p] == IGNORE:
            why = "no-train (its placeholder is not in a learned turn)"
        elif flags is not None and flags[j]:
            why = "no-train (audio_no_train)"
        else:
            why = "learned: its codes and stream EOS"
        lines.append(f"  clip {j} at position {p}: {shape[0]} codebooks x {shape[1]} codes, {why}")
    return lines


def explain(
    sample_or_ids,
    spec: RoleSpanSpec,
    labels=None,
    start_index: Optional[int] = None,
    *,
    audio_token_id: int = HIGGS_HF_IDS["audio_token_id"],
) -> str:
    """Text: each span of the sample (outside turns, headers, turns with role and learned/masked state).

    `sample_or_ids`: a 1-D id sequence (list, int32/int64 tensor or array), a Mapping with "input_ids" (and
    optional "start_index", "labels") or an object with input_ids (and optional start_index, label_ids).
    `labels` (same length as the ids, -100 = masked): compared token by token with the spec's labels. For a
    HiggsAudioV2Collator feature (with `audio_codes`) also whether each clip is learned in label_mode
    "correct" (its placeholder is `audio_token_id`).
    """
    ids, sample_start, sample_labels = _ids_of(sample_or_ids)
    clips = _clips_of(sample_or_ids)
    start_index = sample_start if start_index is None else start_index
    # As in every collator: a start_index the spec does not read is an error, never silently ignored.
    start_index = check_start_index(None, start_index, spec.unread_start_index_reason())
    labels = sample_labels if labels is None else labels
    ids = to_int_list(ids)
    computed, turns = mask_labels_with_turns(ids, spec, start_index)

    # Spans: the gaps between turns, each turn's header (completion: template) and content.
    spans, pos = [], 0
    for t in turns:
        if t.header_begin > pos:
            spans.append((pos, t.header_begin, "outside turns", "masked"))
        kind = "response template" if spec.mode == "completion" else f"header of turn {t.index}"
        spans.append(
            (t.header_begin, t.content_begin, kind, "masked" if not (t.selected and spec.learn_header) else "learned")
        )
        role = "response" if spec.mode == "completion" else (t.role or "unknown role")
        why = (
            "learned"
            if t.selected
            else ("masked (before start_index / not last)" if t.learned_role else "masked (role not learned)")
        )
        if t.end > t.content_begin:
            spans.append((t.content_begin, t.end, f"turn {t.index} {role}", why))
        pos = max(pos, t.end)
    if pos < len(ids):
        spans.append((pos, len(ids), "outside turns", "masked"))

    n_learned = sum(v != IGNORE for v in computed)
    lines = [
        f"{len(ids)} tokens, {n_learned} learned, {len(turns)} turn(s)"
        + (f", start_index={start_index}" if start_index is not None else "")
    ]
    for begin, end, what, why in spans:
        lines.append(f"  [{begin:>5}, {end:>5})  {what:<28} {why:<40} {_preview(ids, begin, end)}")
    if clips is not None:
        lines += _clip_lines(ids, computed, clips, audio_token_id)

    if labels is not None:
        given = to_int_list(labels)
        if len(given) != len(ids):
            lines.append(f"labels: length {len(given)} != input_ids length {len(ids)}; not compared")
            return "\n".join(lines)
        diff = [i for i, (g, c) in enumerate(zip(given, computed)) if g != c]
        if not diff:
            lines.append("labels: identical to the spec's labels")
        else:
            extra = sum(given[i] != IGNORE and computed[i] == IGNORE for i in diff)
            lines.append(
                f"labels: {len(diff)} mismatch(es): {extra} learned in the given labels but masked by the "
                f"spec, {len(diff) - extra} the other way (or a different value)"
            )
            lines.append(f"  {'pos':>5} {'id':>8} {'given':>8} {'spec':>8}")
            for i in diff[:MAX_MISMATCHES_SHOWN]:
                lines.append(f"  {i:>5} {ids[i]:>8} {given[i]:>8} {computed[i]:>8}")
            if len(diff) > MAX_MISMATCHES_SHOWN:
                lines.append(f"  ... {len(diff) - MAX_MISMATCHES_SHOWN} more")
    return "\n".join(lines)
