"""`python -m fastcollate info` / `fastcollate info` says what this install is and, when the compiled extension is
missing, why (the original import error), under the name the user called it by."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import COMPILED

import fastcollate
from fastcollate.__main__ import main
from fastcollate.runtime import backend as _backend


def info_output(capsys, argv0: str) -> str:
    with mock.patch.object(sys, "argv", [argv0]):
        assert main(["info"]) == 0
    return capsys.readouterr().out


def test_versions_backends_and_cuda(capsys):
    out = info_output(capsys, "/x/fastcollate/__main__.py").splitlines()
    assert out[0] == f"fastcollate {fastcollate.__version__} ({Path(fastcollate.__file__).resolve().parent})"
    assert f"torch {torch.__version__}" in out and f"numpy {np.__version__}" in out
    assert "  python  available (the pure-Python reference)" in out
    assert f"  auto    runs {fastcollate.backend_info()['auto']}" in out
    if torch.version.cuda is None:
        assert "CUDA device usable: no (this torch is a CPU-only build)" in out
    else:
        assert any(line.startswith("CUDA device usable: ") for line in out)
    if COMPILED:
        cpu = next(line for line in out if line.startswith("  cpu     available (compiled extension 0.1.0, _core."))
        assert cpu.endswith(f", SIMD: {fastcollate.backend_info()['simd']})")
        kernels = fastcollate.backend_info()["cuda"]
        if kernels["compiled"]:
            line = next(line for line in out if line.startswith("CUDA kernels: compiled for "))
            assert ", ".join(kernels["architectures"]) in line
            assert line.endswith("; usable now") == kernels["usable"]
        else:
            assert "CUDA kernels: not compiled (this build has CPU kernels only)" in out
        assert (
            "next: `python -m fastcollate demo` compares the compiled path with the reference on a synthetic "
            "batch" in out
        )


def test_program_name_is_the_one_called(capsys, monkeypatch):
    # The hint line is shown when the extension is there: stand one in, so this runs on any install.
    monkeypatch.setattr(
        _backend,
        "_core",
        SimpleNamespace(__version__="0.1.0", __file__="/x/_core.so", higgs_hf=SimpleNamespace(simd=lambda: "none")),
    )
    monkeypatch.setattr(_backend, "_CORE_ERROR", None)
    assert "next: `fastcollate demo`" in info_output(capsys, "/venv/bin/fastcollate")
    assert "next: `python -m fastcollate demo`" in info_output(capsys, "/site/fastcollate/__main__.py")


def test_missing_extension_shows_the_original_import_error(capsys, monkeypatch):
    monkeypatch.setattr(_backend, "_core", None)
    monkeypatch.setattr(_backend, "_CORE_ERROR", ImportError("undefined symbol: _ZN3foo"))
    out = info_output(capsys, "fastcollate").splitlines()
    assert "  cpu     MISSING: ImportError('undefined symbol: _ZN3foo')" in out
    assert "  auto    runs python" in out
    assert "CUDA kernels: unknown (no compiled extension)" in out
    assert out[-1].startswith(
        "every collator runs the pure-Python reference (slow, with one RuntimeWarning); the "
        "error above says why the compiled extension did not load"
    )
    assert not any(line.startswith("next:") for line in out)


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "fastcollate", "info"], [str(Path(sys.executable).parent / "fastcollate"), "info"]],
)
def test_installed_commands(command, tmp_path):
    """Both ways a user runs it, from outside the source tree (so the installed package is the one imported)."""
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    prog = "python -m fastcollate" if "-m" in command else "fastcollate"
    assert f"torch {torch.__version__}" in done.stdout
    assert ("  cpu     available" in done.stdout) is COMPILED
    if COMPILED:
        assert f"next: `{prog} demo`" in done.stdout


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "fastcollate"], [str(Path(sys.executable).parent / "fastcollate")]],
)
def test_version_flag(command, tmp_path):
    """`--version` prints the installed version and exits 0 (it was an error: the subcommand was required)."""
    done = subprocess.run(command + ["--version"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"fastcollate {fastcollate.__version__}\n"
