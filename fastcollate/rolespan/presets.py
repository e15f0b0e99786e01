"""Ready-made RoleSpanSpecs for common chat templates.

Without a tokenizer the released vocabularies' ids are used (Llama-3 / Llama-3.1, Qwen2 ChatML); with one,
the ids are read from it, so a resized or different vocabulary stays correct. Any RoleSpanSpec field can be
overridden by keyword (e.g. turns="last", learned_roles=("assistant", "ipython"), always_masked=(...)).
"""

from __future__ import annotations

from typing import Sequence

from .spec import RoleSpanSpec, completion_only

__all__ = ["chatml", "completion_only", "llama3"]

LLAMA3_DEFAULTS = dict(
    start_header=128006,
    end_header=128007,
    double_newline=271,
    eot=128009,
    eom=128008,
    roles={"system": (9125,), "user": (882,), "assistant": (78191,)},
)
CHATML_DEFAULTS = dict(
    im_start=151644, im_end=151645, newline=198, roles={"system": (8948,), "user": (872,), "assistant": (77091,)}
)


def _special(tokenizer, token: str) -> int:
    tid = tokenizer.convert_tokens_to_ids(token)
    if tid is None or tid == getattr(tokenizer, "unk_token_id", object()):
        raise ValueError(f"tokenizer: has no token {token!r}")
    return int(tid)


def _text(tokenizer, text: str) -> tuple:
    return tuple(int(t) for t in tokenizer.encode(text, add_special_tokens=False))


def llama3(
    tokenizer=None, *, role_names: Sequence[str] = ("system", "user", "assistant", "ipython"), **overrides
) -> RoleSpanSpec:
    """<|start_header_id|>role<|end_header_id|>\\n\\n ... <|eot_id|> (or <|eom_id|> between assistant turns).

    Without a tokenizer the roles are system/user/assistant (ipython's ids depend on the tokenizer version);
    with one, every name in role_names is encoded.
    """
    d = LLAMA3_DEFAULTS
    if tokenizer is None:
        ids = dict(d, roles=dict(d["roles"]))
    else:
        ids = dict(
            start_header=_special(tokenizer, "<|start_header_id|>"),
            end_header=_special(tokenizer, "<|end_header_id|>"),
            double_newline=_text(tokenizer, "\n\n"),
            eot=_special(tokenizer, "<|eot_id|>"),
            eom=_special(tokenizer, "<|eom_id|>"),
            roles={name: _text(tokenizer, name) for name in role_names},
        )
    nl = ids["double_newline"]
    fields = dict(
        turn_start=(ids["start_header"],),
        header_end=(ids["end_header"],) + (tuple(nl) if isinstance(nl, tuple) else (nl,)),
        roles=ids["roles"],
        end_of_turn=(ids["eot"], ids["eom"]),
    )
    fields.update(overrides)
    return RoleSpanSpec(**fields)


def chatml(
    tokenizer=None, *, role_names: Sequence[str] = ("system", "user", "assistant", "tool"), **overrides
) -> RoleSpanSpec:
    """<|im_start|>role\\n ... <|im_end|> (Qwen2 ids without a tokenizer: system, user, assistant)."""
    d = CHATML_DEFAULTS
    if tokenizer is None:
        im_start, im_end, newline, roles = d["im_start"], d["im_end"], (d["newline"],), dict(d["roles"])
    else:
        im_start, im_end = _special(tokenizer, "<|im_start|>"), _special(tokenizer, "<|im_end|>")
        newline = _text(tokenizer, "\n")
        roles = {name: _text(tokenizer, name) for name in role_names}
    fields = dict(turn_start=(im_start,), header_end=newline, roles=roles, end_of_turn=(im_end,))
    fields.update(overrides)
    return RoleSpanSpec(**fields)
