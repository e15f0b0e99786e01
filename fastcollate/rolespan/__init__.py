"""Role-span label masking from token ids (mirrors csrc/rolespan).

`spec.py` states the rules, `reference.py` is their Python twin (the specification the compiled state machine
is tested against), `native.py` the glue to it, `presets.py` ready-made specs, `chat_collator.py` the text
collator, `packed.py` packed rows. The `role_span_labels` op over an already padded batch (re-exported by
fastcollate.ops): `rolespan_labels.py`, its twin `rolespan_labels_reference.py`, its checks, its compiled glue
(`rolespan_labels_native.py`, CPU and CUDA), its torch.library registration and `spec_fields.py` (the spec as
an op's flat arguments).
"""

from . import presets
from .chat_collator import ChatCollator
from .spec import RoleSpanSpec, completion_only

__all__ = ["ChatCollator", "RoleSpanSpec", "completion_only", "presets"]
