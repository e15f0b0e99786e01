import os
import platform
import shutil
from pathlib import Path

import pytest
from conftest import COMPILED
from higgs_samples import KW

import fastcollate
from fastcollate.runtime import backend as _backend


def test_backend_info_reports_the_build():
    info = fastcollate.backend_info()
    assert info["compiled"] is COMPILED
    assert info["auto"] == ("cpu" if COMPILED else "python")
    assert info["cuda_built"] is info["cuda"]["compiled"]


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_backend_info_names_the_simd_path_this_cpu_takes():
    """x86-64 CPUs with AVX2 (this project's CI machines) take the AVX2 transpose of HiggsAudioV2Collator's codes;
    every other CPU the scalar loop, never an illegal instruction."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split() if cpuinfo.exists() else []
    x86 = platform.machine() in ("x86_64", "AMD64")
    assert fastcollate.backend_info()["simd"] == ("avx2" if x86 and "avx2" in flags else "none")


# What FASTCOLLATE_CUDA=AUTO builds where nvcc is found: sm_75 to sm_90 and compute_90 PTX (csrc/runtime/cuda.cmake).
ARCHITECTURES = ["sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "compute_90"]


def test_backend_info_cuda_entry():
    cuda = fastcollate.backend_info()["cuda"]
    assert set(cuda) == {"compiled", "architectures", "devices", "usable", "reason"}
    assert cuda["architectures"] == (ARCHITECTURES if cuda["compiled"] else [])
    assert cuda["usable"] is (cuda["reason"] is None)
    if not cuda["usable"]:
        assert isinstance(cuda["reason"], str) and cuda["reason"]


@pytest.mark.skipif(os.environ.get("CI") != "true" or not shutil.which("nvcc"), reason="CI with nvcc on PATH only")
def test_ci_builds_the_cuda_kernels_for_every_architecture():
    """In CI, where nvcc is on PATH, the default build (FASTCOLLATE_CUDA=AUTO) compiles every kernel for every
    listed architecture with warnings as errors: a warning or a failing architecture fails the build itself."""
    cuda = fastcollate.backend_info()["cuda"]
    assert cuda["compiled"] and cuda["architectures"] == ARCHITECTURES


@pytest.mark.skipif(fastcollate.backend_info()["cuda"]["usable"], reason="a CUDA device is usable here")
def test_cuda_backend_without_a_device_says_why():
    reason = fastcollate.backend_info()["cuda"]["reason"]
    for make in (
        lambda: fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False, backend="cuda"),
        lambda: fastcollate.ChatCollator(fastcollate.presets.llama3(), 0, backend="cuda"),
    ):
        with pytest.raises(RuntimeError, match=r"^backend='cuda': no CUDA device is usable: ") as info:
            make()
        assert reason in str(info.value)


def test_device_without_the_cuda_backend_is_an_error():
    with pytest.raises(
        ValueError,
        match=r"^device: is only read with backend='cuda' \(which builds the batch on "
        r"that device\); got device='cuda:0' with the 'python' backend$",
    ):
        fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False, backend="python", device="cuda:0")
    with pytest.raises(ValueError, match=r"^device: is only read with backend='cuda'"):
        fastcollate.ChatCollator(fastcollate.presets.llama3(), 0, device=0)


def test_auto_picks_compiled_when_built():
    collator = fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False)
    assert collator.backend == ("cpu" if COMPILED else "python")
    assert collator.round_to == 8 and collator.use_delay_pattern is False  # upstream's attributes


def test_forcing_a_missing_backend_keeps_the_import_error(monkeypatch):
    error = ImportError("undefined symbol: made_up")
    monkeypatch.setattr(_backend, "_core", None)
    monkeypatch.setattr(_backend, "_CORE_ERROR", error)
    with pytest.raises(ImportError, match="undefined symbol: made_up") as info:
        fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False, backend="cpu")
    assert info.value.__cause__ is error
    monkeypatch.setattr(_backend, "_warned", False)
    with pytest.warns(RuntimeWarning, match="undefined symbol: made_up"):
        collator = fastcollate.HiggsAudioSampleCollator(None, **KW, encode_whisper_embed=False)
    assert collator.backend == "python"


SOURCE_PACKAGE = Path(__file__).resolve().parents[2] / "fastcollate"


@pytest.mark.skipif(
    not (SOURCE_PACKAGE / "_core").is_dir() or any(SOURCE_PACKAGE.glob("_core*.so")),
    reason="needs a source tree without a built extension in it",
)
def test_the_stubs_folder_alone_is_not_the_extension():
    """fastcollate/_core/ holds only type stubs: a tree without the built extension imports it as an empty
    namespace package, which must count as a missing build (the Python fallback, the reason kept)."""
    import subprocess
    import sys

    root = SOURCE_PACKAGE.parent
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import fastcollate; info = fastcollate.backend_info(); "
        "assert fastcollate.__file__.startswith(sys.argv[1]), fastcollate.__file__; "
        "print(info['compiled'], info['import_error'])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("False ImportError("), out.stdout + out.stderr
    assert "the compiled extension is not built" in out.stdout
