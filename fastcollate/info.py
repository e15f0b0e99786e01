"""`python -m fastcollate info`: what this install is, in the lines a bug report needs.

Version and location, which backends exist and, when the compiled one is missing, the original import error
(never a silent fallback), whether CUDA kernels were compiled and whether torch sees a usable GPU, and the
torch, numpy and Python versions it runs with.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import torch

from .runtime import backend


def cuda_device_line() -> str:
    """Whether torch can use a GPU here; never raises (a broken driver is reported, not fatal)."""
    if torch.version.cuda is None:
        return "no (this torch is a CPU-only build)"
    try:
        if not torch.cuda.is_available():
            return f"no (torch built with CUDA {torch.version.cuda}, but torch.cuda.is_available() is False)"
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception as exc:  # e.g. a driver too old for this torch: say why
        return f"no ({exc!r})"
    return f"yes: {len(names)} device(s): {', '.join(names)} (torch CUDA {torch.version.cuda})"


def info_lines(prog: str) -> list:
    from . import __version__

    core = backend._core
    found = core is not None
    lines = [
        f"fastcollate {__version__} ({Path(__file__).resolve().parent})",
        f"python {platform.python_version()} ({sys.executable})",
        f"torch {torch.__version__}",
        f"numpy {np.__version__}",
        "backends:",
        "  python  available (the pure-Python reference)",
    ]
    if found:
        lines.append(
            f"  cpu     available (compiled extension {getattr(core, '__version__', '?')}, "
            f"{Path(core.__file__).name}, SIMD: {core.higgs_hf.simd()})"
        )
    else:
        lines.append(f"  cpu     MISSING: {backend._CORE_ERROR!r}")
    lines.append(f"  auto    runs {backend.backend_info()['auto']}")
    kernels = backend.backend_info()["cuda"]
    if not found:
        cuda = "unknown (no compiled extension)"
    elif kernels["compiled"]:
        usable = "usable now" if kernels["usable"] else f"not usable now: {kernels['reason']}"
        cuda = f"compiled for {', '.join(kernels['architectures'])}; {usable}"
    else:
        cuda = "not compiled (this build has CPU kernels only)"
    lines.append(f"CUDA kernels: {cuda}")
    if found and kernels["compiled"]:
        lines.append(
            "  cuda    " + ('available: backend="cuda"' if kernels["usable"] else "unavailable (no usable device)")
        )
    lines.append(f"CUDA device usable: {cuda_device_line()}")
    if found:
        lines.append(f"next: `{prog} demo` compares the compiled path with the reference on a synthetic batch")
    else:
        lines.append(
            "every collator runs the pure-Python reference (slow, with one RuntimeWarning); the error "
            "above says why the compiled extension did not load: reinstall the wheel, or rebuild it from "
            "source (pip install -e . in the repository)"
        )
    return lines


def run_info(prog: str) -> int:
    print("\n".join(info_lines(prog)))
    return 0
