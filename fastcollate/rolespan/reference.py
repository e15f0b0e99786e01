"""Reference twin of the role-span masking and text collation: a plain Python loop, slow on purpose.

This file is the statement of record of the rules in fastcollate/rolespan/spec.py; the compiled path
(csrc/rolespan) must give exactly the same tensors, and the tests compare them with torch.equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import torch

from ..common.int_input import int_tensor
from ..common.labels import IGNORE
from ..common.learned import to_int_list
from ..common.sizes import check_padded_memory, padded_width
from .packed import varlen_fields
from .spec import RoleSpanSpec

OUTSIDE, HEADER, CONTENT = "outside", "header", "content"  # in completion mode: prompt / -, response


@dataclass
class Turn:
    """One turn found by the state machine (completion mode: one response span)."""

    index: int  # turn index: completed headers before this one (completion: response spans)
    role: Optional[str]  # None = role tokens match no entry of spec.roles
    learned_role: bool  # the role is in spec.learned_roles
    selected: bool  # learned_role and chosen by spec.turns (for "last": still the last one)
    header_begin: int
    content_begin: int
    end: int  # one past the last token (end-of-turn included), or where the row/turn was cut


def _ends_with(ids, i: int, region_begin: int, pattern) -> bool:
    """A marker occurrence ending at i that lies entirely inside the current region."""
    k = len(pattern)
    if k == 0 or i - k + 1 < region_begin:
        return False
    return all(ids[i - k + 1 + j] == pattern[j] for j in range(k))


def mask_labels_with_turns(ids, spec: RoleSpanSpec, start_index: Optional[int] = None):
    """labels (list of int, -100 = masked) and the turns found."""
    ids = to_int_list(ids)
    roles = spec.role_table
    completion = spec.mode == "completion"
    opener = spec.response_template if completion else spec.turn_start
    closer = (spec.instruction_template or ()) if completion else spec.header_end
    min_turn = 0 if start_index is None else start_index
    labels = [IGNORE] * len(ids)
    turns: List[Turn] = []
    state, region, turn_index = OUTSIDE, 0, 0
    learned = False
    last_begin = None  # turns="last": where the previously selected turn's labels begin

    def mask(begin, end):
        for j in range(begin, end):
            labels[j] = IGNORE

    def start_turn(header_begin, content_begin, role, learned_role):
        nonlocal turn_index, last_begin
        selected = learned_role and (spec.turns != "from_start_index" or turn_index >= min_turn)
        if selected and spec.turns == "last":
            if last_begin is not None:  # a later selected turn un-learns the previous one
                mask(last_begin, header_begin)
                for t in turns:
                    t.selected = False
            last_begin = header_begin
        turns.append(Turn(turn_index, role, learned_role, selected, header_begin, content_begin, len(ids)))
        turn_index += 1
        return selected

    def end_turn(at):
        if turns and state == CONTENT:
            turns[-1].end = at

    for i, tok in enumerate(ids):
        if _ends_with(ids, i, region, opener):
            # A new turn header (completion: a response template). Its marker tokens are masked even if they
            # started inside a learned turn, which this ends without an end-of-turn token.
            begin = i - len(opener) + 1
            mask(begin, i)
            end_turn(begin)
            region = i + 1
            if completion:
                learned = start_turn(begin, i + 1, None, True)
                state = CONTENT
            else:
                state, header_begin = HEADER, begin
            continue
        if state == HEADER:
            if _ends_with(ids, i, region, closer):
                role_tokens = tuple(ids[region : i - len(closer) + 1])
                role = next((name for name, rt in roles.items() if rt == role_tokens), None)
                learned = start_turn(header_begin, i + 1, role, role in spec.learned_roles)
                if learned and spec.learn_header:
                    for j in range(header_begin, i + 1):
                        if ids[j] not in spec.always_masked:
                            labels[j] = ids[j]
                state, region = CONTENT, i + 1
        elif state == CONTENT:
            if completion and _ends_with(ids, i, region, closer):
                begin = i - len(closer) + 1
                mask(begin, i)
                end_turn(begin)
                state, region, learned = OUTSIDE, i + 1, False
            elif tok in spec.end_of_turn:
                if learned and spec.learn_end_of_turn and tok not in spec.always_masked:
                    labels[i] = tok
                end_turn(i + 1)
                state, region, learned = OUTSIDE, i + 1, False
            elif learned and tok not in spec.always_masked:
                labels[i] = tok
    # Nothing precedes the first token, so it is never a prediction target.
    if labels:
        labels[0] = IGNORE
    return labels, turns


def mask_labels_reference(ids, spec: RoleSpanSpec, start_index: Optional[int] = None) -> torch.Tensor:
    """int64 labels of one sample: its own id where learned, -100 where masked."""
    labels, _ = mask_labels_with_turns(ids, spec, start_index)
    return torch.tensor(labels, dtype=torch.int64)


def empty_reason(ids, spec: RoleSpanSpec, start_index: Optional[int] = None) -> str:
    """Why a sample has no learned token (used by ChatCollator's on_empty policy)."""
    ids = to_int_list(ids)
    if not ids:
        return "input_ids is empty"
    _, turns = mask_labels_with_turns(ids, spec, start_index)
    candidates = [t for t in turns if t.learned_role]
    if not candidates:
        return spec.empty_reason_hint()
    if not any(t.selected for t in candidates):
        return "all learned turns are before start_index"
    return "learned turns were truncated away (no learnable token left)"


def collate_text_reference(
    rows,
    spec: RoleSpanSpec,
    pad_token_id: int,
    pad_left: bool = False,
    pad_to_multiple_of: int = 1,
    packed: bool = False,
    start_indices=None,
) -> dict:
    """Mask and pad (or pack) a batch of 1-D id sequences; see ChatCollator for the output fields."""
    rows = [int_tensor(i, "input_ids", r, 1).tolist() for i, r in enumerate(rows)]
    starts = start_indices if start_indices is not None else [None] * len(rows)
    labels = [mask_labels_with_turns(r, spec, s)[0] for r, s in zip(rows, starts)]
    num_learned = torch.tensor([sum(v != IGNORE for v in lab) for lab in labels], dtype=torch.int64)
    if packed:
        lengths = [len(r) for r in rows]
        if sum(lengths) > 2**31 - 1:
            raise ValueError(f"packed: {sum(lengths)} tokens do not fit the int32 cu_seq_lens")
        cu = [0]
        for n in lengths:
            cu.append(cu[-1] + n)
        return {
            "input_ids": torch.tensor([[v for r in rows for v in r]], dtype=torch.int64).reshape(1, -1),
            "labels": torch.tensor([[v for lab in labels for v in lab]], dtype=torch.int64).reshape(1, -1),
            "position_ids": torch.tensor([[p for n in lengths for p in range(n)]], dtype=torch.int64).reshape(1, -1),
            **varlen_fields(torch.tensor(cu, dtype=torch.int32), max(lengths, default=0)),
            "num_learned": num_learned,
        }
    longest = max((len(r) for r in rows), default=0)
    width = padded_width(len(rows), longest, pad_to_multiple_of, "pad_to_multiple_of")
    check_padded_memory(len(rows), longest, pad_to_multiple_of, "pad_to_multiple_of")
    input_ids, out_labels, attention = [], [], []
    for r, lab in zip(rows, labels):
        pad = width - len(r)
        if pad_left:
            input_ids.append([pad_token_id] * pad + r)
            out_labels.append([IGNORE] * pad + lab)
            attention.append([0] * pad + [1] * len(r))
        else:
            input_ids.append(r + [pad_token_id] * pad)
            out_labels.append(lab + [IGNORE] * pad)
            attention.append([1] * len(r) + [0] * pad)
    shape = (len(rows), width)
    return {
        "input_ids": torch.tensor(input_ids, dtype=torch.int64).reshape(shape),
        "labels": torch.tensor(out_labels, dtype=torch.int64).reshape(shape),
        "attention_mask": torch.tensor(attention, dtype=torch.int64).reshape(shape),
        "num_learned": num_learned,
    }
