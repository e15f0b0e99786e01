"""Where fastcollate's code runs: which implementations this install has, choosing one (python / cpu / cuda),
and the CUDA device a call launches on.

The compiled extension is optional at import time (the pure-Python fallback always works), but never
silently: the import error is kept, shown by `backend_info()`, and re-raised when a compiled backend is asked
for by name.

The CUDA kernels are bodies of `__host__ __device__` code shared with a CPU "grid runner" that the tests run
on every CI machine; the GPU adds only the launch. Each launch goes to torch's current stream on the tensors'
device and never synchronises the host. The CUDA glue of each op and collator lives with its capability
(fastcollate/delay/cuda.py, fastcollate/rolespan/rolespan_labels_native.py, the collators' native.py).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import torch

BACKENDS = ("auto", "python", "cpu", "cuda")

try:
    from .. import _core

    if getattr(_core, "__file__", None) is None:  # only the stubs' folder, fastcollate/_core/ (a namespace package)
        raise ImportError("cannot import name '_core' from 'fastcollate': the compiled extension is not built")
    _CORE_ERROR = None
except ImportError as exc:  # a broken or missing build: keep the reason
    _core = None
    _CORE_ERROR = exc
    if (Path(__file__).resolve().parents[2] / "CMakeLists.txt").is_file():
        # `python -m ...` from the repository root imports this source tree, not the installed package.
        _CORE_ERROR = ImportError(
            f"{exc} [this is fastcollate's source tree, which has no built extension: "
            "install it with `pip install -e .`, or run from another directory]"
        )

_warned = False


def backend_info() -> dict:
    """What was built and what `backend="auto"` runs: {"compiled": bool, "compiled_version": str or None,
    "cuda_built": bool, "simd": the CPU kernels' SIMD path ("avx2", "none"; None when not compiled),
    "auto": "cpu" or "python", "import_error": the original ImportError's repr or None,
    "cuda": the CUDA kernels (cuda_info())}."""
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
    compiled extension (ImportError as for 'cpu'); collators then resolve their device (collator_device)."""
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
            warnings.warn(
                f"fastcollate: compiled extension unavailable ({_CORE_ERROR!r}); using the pure-Python fallback",
                RuntimeWarning,
                stacklevel=3,
            )
            _warned = True
        return "python"
    raise ImportError(
        f"fastcollate: backend={backend!r} needs the compiled extension, which failed to import: {_CORE_ERROR!r}"
    ) from _CORE_ERROR


def core():
    if _core is None:
        raise ImportError(f"fastcollate compiled extension unavailable: {_CORE_ERROR!r}") from _CORE_ERROR
    return _core


# CUDA: what was built, whether a device is usable, and where a call launches.


def built() -> bool:
    """The extension was compiled with its CUDA kernels."""
    return bool(getattr(getattr(_core, "runtime", None), "cuda_built", False))


def cuda_info() -> dict:
    """backend_info()["cuda"]: compiled or not, the architectures compiled in, and whether a device is usable
    now (the CUDA runtime sees one and torch can allocate on it), or why not."""
    compiled = built()
    devices, reason = 0, None
    if _core is None:
        reason = "the compiled extension is not available (see backend_info()['import_error'])"
    elif not compiled:
        reason = (
            "fastcollate was built without its CUDA kernels (no nvcc when it was built, or "
            "FASTCOLLATE_CUDA=OFF); rebuild with nvcc on PATH"
        )
    else:
        devices, why_not = _core.runtime.cuda_device_count()
        if devices == 0:
            reason = why_not
        elif not torch.cuda.is_available():
            reason = f"torch {torch.__version__} cannot use CUDA (a CPU-only build of torch?)"
    return {
        "compiled": compiled,
        "architectures": list(getattr(getattr(_core, "runtime", None), "cuda_architectures", [])),
        "devices": devices,
        "usable": reason is None,
        "reason": reason,
    }


def require_device(device=None) -> torch.device:
    """The CUDA device a backend="cuda" collator (or op) runs on: `device` (an index, "cuda:N" or a
    torch.device), or torch's current CUDA device for None. RuntimeError when no device is usable,
    ValueError when `device` is no CUDA device."""
    state = cuda_info()
    if not state["usable"]:
        raise RuntimeError(f"backend='cuda': no CUDA device is usable: {state['reason']}")
    if device is None:
        return torch.device("cuda", torch.cuda.current_device())
    try:
        resolved = torch.device(device)
    except (TypeError, RuntimeError):
        raise ValueError(
            f"device: expected a CUDA device (an index, 'cuda:N' or a torch.device), got {device!r}"
        ) from None
    if resolved.type != "cuda":
        raise ValueError(f"device: expected a CUDA device, got {resolved}")
    index = torch.cuda.current_device() if resolved.index is None else resolved.index
    if not 0 <= index < torch.cuda.device_count():
        raise ValueError(f"device: cuda:{index} does not exist ({torch.cuda.device_count()} CUDA devices)")
    return torch.device("cuda", index)


def stream_of(device: torch.device) -> int:
    """torch's current stream on `device`, as the cudaStream_t the kernels launch on."""
    return torch.cuda.current_stream(device).cuda_stream


def capturing() -> bool:
    """A CUDA graph is being captured on the current stream: nothing may wait for the device."""
    return torch.cuda.is_current_stream_capturing()


def check_status(status: torch.Tensor, recheck) -> None:
    """A kernel raised `status` for input values it cannot use (offsets, attention masks). Outside CUDA graph
    capture this waits for the kernel (one small device-to-host copy) and, if raised, runs `recheck`, the CPU
    check of the same values, which raises the CPU path's ValueError. Under capture nothing waits: the kernels
    have already refused to read or write out of bounds, and the outputs are unspecified."""
    if capturing() or not bool(status.item()):
        return
    recheck()
    raise RuntimeError("fastcollate: a CUDA kernel rejected its input, but the CPU check accepts it (a bug)")


def kernel_target(device: torch.device, stream: Optional[int] = None) -> dict:
    """Keyword arguments of the kernel_* functions of the _core submodules for `device`."""
    return {"device": device.index, "stream": stream_of(device) if stream is None else stream}


def collator_device(backend: str, device) -> Optional[torch.device]:
    """The device of a collator: resolved for backend "cuda"; None for the others, which build the batch on
    the CPU, so a device given to them is an error rather than silently ignored."""
    if backend == "cuda":
        return require_device(device)
    if device is not None:
        raise ValueError(
            f"device: is only read with backend='cuda' (which builds the batch on that device); got "
            f"device={device!r} with the {backend!r} backend"
        )
    return None


def require_cuda_built(t: torch.Tensor) -> None:
    """The tensors are on a CUDA device: the extension must have been built with its CUDA kernels."""
    if not built():
        raise RuntimeError(
            f"fastcollate: the tensors are on {t.device}, but fastcollate was built without its CUDA "
            "kernels (no nvcc when it was built, or FASTCOLLATE_CUDA=OFF); see backend_info()['cuda']"
        )


# The ops' one switch between the compiled code and the pure-Python twins (the tests turn it off to run the twins
# behind the same boundary checks).
COMPILED = _core is not None
# Devices whose tensors the compiled code takes directly (eager): the CPU, and CUDA when its kernels were built.
_EAGER_DEVICES = ("cpu", "cuda") if getattr(getattr(_core, "runtime", None), "cuda_built", False) else ("cpu",)


def eager(*tensors) -> bool:
    """Call the compiled code directly: the extension is built, nothing is being traced, and every tensor is a
    plain CPU tensor (or CUDA tensor, with the CUDA kernels built; the op's checks have put them on one device).
    Anything else (meta and fake tensors, torch.compile, subclasses, the fallback) goes through the registered
    torch.library op, whose dispatch costs more per call than the direct one."""
    return (
        COMPILED
        and not torch.compiler.is_compiling()
        and all(t is None or (type(t) is torch.Tensor and t.device.type in _EAGER_DEVICES) for t in tensors)
    )
