"""The CUDA path (csrc/cuda): what was built, whether a device is usable, and where a call launches.

The kernels are bodies of `__host__ __device__` code shared with a CPU "grid runner" (csrc/common/grid.h) that
the tests run on every CI machine; the GPU adds only the launch. Each launch goes to torch's current stream on
the tensors' device and never synchronises the host. `ops.py` holds the CUDA implementations of
fastcollate.ops, `collate.py` the collators' backend="cuda".
"""

from __future__ import annotations

from typing import Optional

import torch

from .._backend import _core

__all__ = ["built", "info", "require_device", "stream_of"]


def built() -> bool:
    """The extension was compiled with its CUDA kernels."""
    return bool(getattr(getattr(_core, "runtime", None), "cuda_built", False))


def info() -> dict:
    """backend_info()["cuda"]: compiled or not, the architectures compiled in, and whether a device is usable
    now (the CUDA runtime sees one and torch can allocate on it), or why not."""
    compiled = built()
    devices, reason = 0, None
    if _core is None:
        reason = "the compiled extension is not available (see backend_info()['import_error'])"
    elif not compiled:
        reason = ("fastcollate was built without its CUDA kernels (no nvcc when it was built, or "
                  "FASTCOLLATE_CUDA=OFF); rebuild with nvcc on PATH")
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
    state = info()
    if not state["usable"]:
        raise RuntimeError(f"backend='cuda': no CUDA device is usable: {state['reason']}")
    if device is None:
        return torch.device("cuda", torch.cuda.current_device())
    try:
        resolved = torch.device(device)
    except (TypeError, RuntimeError):
        raise ValueError(f"device: expected a CUDA device (an index, 'cuda:N' or a torch.device), got {device!r}") \
            from None
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
        raise ValueError(f"device: is only read with backend='cuda' (which builds the batch on that device); got "
                         f"device={device!r} with the {backend!r} backend")
    return None
