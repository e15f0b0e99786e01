"""Role-span label masking from token ids (mirrors csrc/rolespan).

`spec.py` states the rules, `reference.py` is their Python twin (the specification the compiled state machine
is tested against), `native.py` the glue to it, `presets.py` ready-made specs, `chat_collator.py` the text
collator.
"""

from . import presets
from .chat_collator import ChatCollator
from .spec import RoleSpanSpec, completion_only

__all__ = ["ChatCollator", "RoleSpanSpec", "completion_only", "presets"]
