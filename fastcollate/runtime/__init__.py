"""Where kernels run (mirrors csrc/runtime): the backend choice (python / cpu / cuda) and CUDA device handling,
in one module, `backend.py`."""

from .backend import backend_info

__all__ = ["backend_info"]
