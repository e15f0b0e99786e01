"""RoleSpanSpec: which tokens of a chat are learned, decided from input_ids alone (never from labels).

Two modes share one state machine (fastcollate/rolespan/reference.py is the readable statement of it, the
C++ in csrc/rolespan/rolespan_step.h the fast one):

mode "roles" (chat templates with role headers, e.g. Llama-3, ChatML)
    <turn_start> <role tokens> <header_end> <content ...> <end_of_turn>
    * tokens before the first turn (<|begin_of_text|>) and between turns are masked;
    * header tokens (turn_start .. header_end inclusive) are masked unless `learn_header` (then a learned
      turn's header is learned too);
    * content of a turn whose role is in `learned_roles` (and selected by `turns`) is labeled with its own id;
      its end-of-turn token is learned if `learn_end_of_turn`;
    * role tokens matching no entry of `roles` -> the turn is masked;
    * a turn cut by the row end (no end_of_turn) keeps its content learned; a header cut by the row end is
      masked; a turn_start inside content ends that turn (without end-of-turn) and starts a new header;
    * `turns`, which learned-role turns are learned:
        "from_start_index" (the default): those with turn index >= the sample's `start_index`, exactly what
            boson-multimodal's prepare_chatml_sample means by it (every completed header counts, from 0, like
            its turn_id); a sample without a start_index (None or absent) learns every turn;
        "all": every turn; "last": only the last one.
      A sample that carries a start_index under "all" or "last" is an error (ValueError naming the sample and
      the field), never silently ignored: those choices do not read it.

mode "completion" (TRL DataCollatorForCompletionOnlyLM, see `completion_only`)
    tokens after a response_template occurrence are learned up to the next instruction_template occurrence;
    both templates are masked. Each response span is one "turn" for `turns="last"`. A start_index counts chat
    messages, which templates cannot see, so a sample carrying one is an error in this mode.

Rules common to both modes, needed to make them exact and identical in C++ and Python:
    * a marker (turn_start, header_end, templates) is a run of ids that must lie entirely inside the current
      state's region: markers never straddle a state change, so overlapping occurrences do not count twice;
    * `always_masked` ids are never learned;
    * the first token of a sample is never learned: nothing precedes it, so it is never a prediction target
      (HF DataCollatorWithFlattening masks it too), which keeps packed and padded batches identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

# The order is the native enum (csrc/rolespan/rolespan_step.h: RoleSpanTurns); the default is "from_start_index".
TURNS = ("all", "last", "from_start_index")
MODES = ("roles", "completion")


def _ids(name: str, value, *, allow_empty: bool) -> tuple:
    if isinstance(value, (int, np.integer)):
        value = (value,)
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{name}: expected a sequence of token ids, got {type(value).__name__}") from None
    if not allow_empty and not out:
        raise ValueError(f"{name}: expected at least one token id, got none")
    if any(v < 0 for v in out):
        raise ValueError(f"{name}: token ids must be >= 0, got {out}")
    if any(v > 2**63 - 1 for v in out):  # no int64 id could ever match it
        raise ValueError(f"{name}: token ids must be < 2**63 (int64), got {out}")
    return out


@dataclass(frozen=True)
class RoleSpanSpec:
    """Which tokens of a chat are learned, from its input_ids alone: the rules are this module's docstring.

    Token ids are ints (sequences of them for multi-token markers); frozen and hashable, so a collator builds
    its native form once. Usually made by a preset: `presets.llama3()`, `presets.chatml()`, `completion_only()`.
    """

    turn_start: tuple = ()
    header_end: tuple = ()
    roles: Mapping[str, tuple] = field(default_factory=dict)
    learned_roles: tuple = ("assistant",)
    end_of_turn: tuple = ()
    learn_end_of_turn: bool = True
    learn_header: bool = False
    turns: str = "from_start_index"
    always_masked: tuple = ()
    mode: str = "roles"
    # mode "completion" only
    response_template: tuple = ()
    instruction_template: Optional[tuple] = None

    def __post_init__(self):
        # Normalise to hashable tuples; object.__setattr__ because the dataclass is frozen.
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {self.mode!r}")
        if self.turns not in TURNS:
            raise ValueError(f"turns: expected one of {TURNS}, got {self.turns!r}")
        set_("always_masked", _ids("always_masked", self.always_masked, allow_empty=True))
        set_("end_of_turn", _ids("end_of_turn", self.end_of_turn, allow_empty=True))
        if isinstance(self.learned_roles, str):
            set_("learned_roles", (self.learned_roles,))
        set_("learned_roles", tuple(self.learned_roles))
        if self.mode == "completion":
            set_("response_template", _ids("response_template", self.response_template, allow_empty=False))
            if self.instruction_template is not None:
                set_("instruction_template", _ids("instruction_template", self.instruction_template, allow_empty=False))
            set_("roles", ())
            return
        set_("turn_start", _ids("turn_start", self.turn_start, allow_empty=False))
        set_("header_end", _ids("header_end", self.header_end, allow_empty=False))
        roles = dict(self.roles)
        set_("roles", tuple((str(k), _ids(f"roles[{k!r}]", v, allow_empty=True)) for k, v in roles.items()))
        unknown = [r for r in self.learned_roles if r not in roles]
        if unknown:
            raise ValueError(f"learned_roles: {unknown} not in roles {sorted(roles)}")

    # roles is stored as a tuple of (name, ids) pairs so the spec stays hashable (dataclasses.replace works:
    # dict() takes the pairs back); this gives the dict.
    @property
    def role_table(self) -> dict:
        return dict(self.roles)

    def to_native(self) -> dict:
        """Flat int64 arrays + small ints: the form csrc/rolespan takes (see RoleSpanSpecNative)."""
        completion = self.mode == "completion"
        roles = () if completion else self.roles
        role_ids = [t for _, ids in roles for t in ids]
        role_offsets = np.cumsum([0] + [len(ids) for _, ids in roles]).tolist()
        return dict(
            mode=MODES.index(self.mode),
            turns=TURNS.index(self.turns),
            learn_end_of_turn=bool(self.learn_end_of_turn),
            learn_header=bool(self.learn_header),
            # In completion mode the two marker slots hold the templates (an empty end marker = none).
            turn_start=list(self.response_template if completion else self.turn_start),
            header_end=list((self.instruction_template or ()) if completion else self.header_end),
            role_ids=role_ids,
            role_offsets=role_offsets,
            role_learned=[name in self.learned_roles for name, _ in roles],
            end_of_turn=[] if completion else list(self.end_of_turn),
            always_masked=list(self.always_masked),
        )

    def unread_start_index_reason(self) -> Optional[str]:
        """Why this spec does not read a sample's start_index (None: it does). A given start_index under such a
        spec is an error: silently learning the turns the dataset marked as context is what this prevents."""
        if self.mode == "completion":
            return (
                "completion-only templates cannot count chat turns (start_index counts a chat's messages, as "
                "in prepare_chatml_sample); use a chat preset such as presets.llama3(), or drop start_index"
            )
        if self.turns != "from_start_index":
            return (
                f"the spec selects turns={self.turns!r}, which does not read start_index; use the default "
                "turns='from_start_index' to learn only the turns from start_index on, or drop start_index"
            )
        return None

    def empty_reason_hint(self) -> str:
        if self.mode == "completion":
            return "no response template found"
        return f"no {'/'.join(self.learned_roles)} turn found"


def completion_only(
    response_template: Sequence[int],
    instruction_template: Optional[Sequence[int]] = None,
    *,
    turns: str = "from_start_index",
    always_masked: Sequence[int] = (),
) -> RoleSpanSpec:
    """TRL DataCollatorForCompletionOnlyLM semantics, on ids.

    Learned: every token after a response_template occurrence, up to (not including) the next
    instruction_template occurrence; both templates masked. So every assistant turn of a multi-turn sample is
    learned. Differences from TRL, all deliberate:
      * instruction_template None: TRL learns only after the LAST response template; here every response span
        is learned (later response templates are masked). `turns="last"` gives TRL's behaviour exactly.
      * TRL pairs instruction/response occurrences with zip(), which misaligns when they do not alternate
        (two responses in a row); the state machine here just follows the occurrences in order.
      * TRL searches labels after pad -> -100, so with pad == eos it never learns eos; here labels come from
        the mask, never from comparing with pad.
      * overlapping template occurrences count once (markers never straddle a state change).
    """
    return RoleSpanSpec(
        mode="completion",
        response_template=tuple(response_template),
        instruction_template=None if instruction_template is None else tuple(instruction_template),
        turns=turns,
        always_masked=tuple(always_masked),
        learned_roles=(),
    )
