# _core.runtime (csrc/python/bind_runtime.cpp): what this build runs on.
from typing import List, Tuple

cuda_built: bool
cuda_architectures: List[str]

def cuda_device_count() -> Tuple[int, str]:
    """(CUDA devices the runtime sees, "" or why none: the CUDA error); fastcollate/runtime/backend.py (cuda_info) reads it."""

def host_output_bytes() -> int:
    """Bytes of the collators' host output allocations alive in the process, each rounded up to 64 (tests)."""
