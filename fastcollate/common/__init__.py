"""What every capability shares (mirrors csrc/common): the ignore label (`labels.py`), boundary and op argument
checks (`checks.py`), checked sizes (`sizes.py`), integer inputs in every form (`int_input.py`), the on_empty
policy (`empty_policy.py`), learned-label counting (`learned.py`), how ops read odd views (`views.py`) and the
torch.library namespace (`torch_library.py`)."""

from .empty_policy import EmptySampleWarning
from .labels import IGNORE

__all__ = ["EmptySampleWarning", "IGNORE"]
