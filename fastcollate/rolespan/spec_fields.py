"""A RoleSpanSpec as the flat ints and int lists a torch.library op can take (its to_native() form), and back.

Ops take tensors, ints, bools and lists of them, not Python objects, so the fastcollate::role_span_labels op
receives the spec as these fields (constants baked into a compiled graph). Role names do not travel; the
spec rebuilt from the fields (for the pure-Python fallback) labels every id sequence the same way.
"""

from __future__ import annotations

import functools
from typing import Tuple

from ..runtime.backend import core
from .spec import MODES, TURNS, RoleSpanSpec

# The order of the op's spec arguments (RoleSpanSpec.to_native() keys).
FIELDS = (
    "mode",
    "turns",
    "learn_end_of_turn",
    "learn_header",
    "turn_start",
    "header_end",
    "role_ids",
    "role_offsets",
    "role_learned",
    "end_of_turn",
    "always_masked",
)


def spec_fields(spec: RoleSpanSpec) -> Tuple:
    native = spec.to_native()
    return tuple(native[name] for name in FIELDS)


@functools.lru_cache(maxsize=64)
def _spec_from_hashable(fields: Tuple) -> RoleSpanSpec:
    f = dict(zip(FIELDS, fields))
    common = dict(turns=TURNS[f["turns"]], always_masked=f["always_masked"])
    if MODES[f["mode"]] == "completion":
        return RoleSpanSpec(
            mode="completion",
            response_template=f["turn_start"],
            instruction_template=f["header_end"] or None,
            learned_roles=(),
            **common,
        )
    offsets = f["role_offsets"]
    roles = {f"role{r}": f["role_ids"][offsets[r] : offsets[r + 1]] for r in range(len(offsets) - 1)}
    learned = tuple(name for name, flag in zip(roles, f["role_learned"]) if flag)
    return RoleSpanSpec(
        turn_start=f["turn_start"],
        header_end=f["header_end"],
        roles=roles,
        learned_roles=learned,
        end_of_turn=f["end_of_turn"],
        learn_end_of_turn=f["learn_end_of_turn"],
        learn_header=f["learn_header"],
        **common,
    )


def spec_from_fields(*fields) -> RoleSpanSpec:
    return _spec_from_hashable(tuple(tuple(v) if isinstance(v, list) else v for v in fields))


@functools.lru_cache(maxsize=64)
def _native_from_hashable(fields: Tuple):
    return core().rolespan.RoleSpanSpecNative(
        **{name: list(v) if isinstance(v, tuple) else v for name, v in zip(FIELDS, fields)}
    )


def native_spec_from_fields(*fields):
    """The compiled spec object, built once per distinct spec."""
    return _native_from_hashable(tuple(tuple(v) if isinstance(v, list) else v for v in fields))
