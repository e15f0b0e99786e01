"""Which implementations exist in this install, and choosing one.

The compiled extension is optional at import time (the pure-Python fallback always works), but never
silently: the import error is kept, shown by `backend_info()`, and re-raised when a compiled backend is asked
for by name.
"""

from __future__ import annotations

import warnings
from pathlib import Path

BACKENDS = ("auto", "python", "cpu", "cuda")

try:
    from . import _core
    _CORE_ERROR = None
except ImportError as exc:  # a broken or missing build: keep the reason
    _core = None
    _CORE_ERROR = exc
    if (Path(__file__).resolve().parent.parent / "CMakeLists.txt").is_file():
        # `python -m ...` from the repository root imports this source tree, not the installed package.
        _CORE_ERROR = ImportError(f"{exc} [this is fastcollate's source tree, which has no built extension: "
                                  "install it with `pip install -e .`, or run from another directory]")

_warned = False


def backend_info() -> dict:
    """What was built and what `backend="auto"` runs: {"compiled": bool, "compiled_version": str or None,
    "cuda_built": bool, "simd": the CPU kernels' SIMD path ("avx2", "none"; None when not compiled),
    "auto": "cpu" or "python", "import_error": the original ImportError's repr or None,
    "cuda": the CUDA kernels (fastcollate.cuda.info())}."""
    from .cuda import info as cuda_info

    return {
        "compiled": _core is not None,
        "compiled_version": getattr(_core, "__version__", None),
        "cuda_built": bool(getattr(getattr(_core, "runtime", None), "cuda_built", False)),
        "simd": _core.higgs_hf.simd() if _core is not None else None,
        "auto": "cpu" if _core is not None else "python",
        "import_error": None if _CORE_ERROR is None else repr(_CORE_ERROR),
        "cuda": cuda_info(),
    }


def resolve_backend(backend: str) -> str:
    """'auto' -> 'cpu' when compiled, else 'python' with one warning carrying the import error. 'cuda' needs the
    compiled extension (ImportError as for 'cpu'); collators then resolve their device (fastcollate.cuda)."""
    global _warned
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "python":
        return "python"
    if backend == "cuda" and _core is not None:
        return "cuda"
    if _core is not None:
        return "cpu"
    if backend == "auto":
        if not _warned:
            warnings.warn(f"fastcollate: compiled extension unavailable ({_CORE_ERROR!r}); "
                          "using the pure-Python fallback", RuntimeWarning, stacklevel=3)
            _warned = True
        return "python"
    raise ImportError(f"fastcollate: backend={backend!r} needs the compiled extension, which failed to import: "
                      f"{_CORE_ERROR!r}") from _CORE_ERROR


def core():
    if _core is None:
        raise ImportError(f"fastcollate compiled extension unavailable: {_CORE_ERROR!r}") from _CORE_ERROR
    return _core
