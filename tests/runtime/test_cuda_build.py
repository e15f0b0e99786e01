"""FASTCOLLATE_CUDA at configure time (csrc/runtime/cuda.cmake): ON without nvcc is a clear error, AUTO goes on
without CUDA, any other value is an error. Runs CMake's configure step only, with nvcc hidden from PATH."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CMAKE = shutil.which("cmake")
pytestmark = [
    pytest.mark.skipif(CMAKE is None, reason="cmake not found"),
    # The wheel job runs the suite with no source tree beside it: nothing to configure there.
    pytest.mark.skipif(not (ROOT / "CMakeLists.txt").is_file(), reason="needs the source tree"),
]


def configure(tmp_path, value):
    """cmake's configure output, with PATH holding no nvcc and no CUDA compiler named."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp_path))}
    result = subprocess.run(
        [
            CMAKE,
            "-S",
            str(ROOT),
            "-B",
            str(tmp_path / "build"),
            f"-DFASTCOLLATE_CUDA={value}",
            "-DSKBUILD_PROJECT_NAME=fastcollate",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def test_on_without_nvcc_is_a_clear_error(tmp_path):
    if any(Path(p, "nvcc").exists() for p in ("/usr/bin", "/bin")):
        pytest.skip("nvcc is in /usr/bin or /bin: it cannot be hidden")
    code, out = configure(tmp_path, "ON")
    assert code != 0
    assert (
        "FASTCOLLATE_CUDA=ON, but no CUDA compiler was found: put nvcc on PATH or set CUDACXX=/path/to/nvcc, "
        "or build with FASTCOLLATE_CUDA=AUTO (CUDA when nvcc is found) or OFF"
    ) in out


def test_auto_without_nvcc_builds_without_cuda(tmp_path):
    if any(Path(p, "nvcc").exists() for p in ("/usr/bin", "/bin")):
        pytest.skip("nvcc is in /usr/bin or /bin: it cannot be hidden")
    _, out = configure(tmp_path, "auto")  # case-insensitive
    assert "no CUDA compiler found; building without the CUDA kernels (FASTCOLLATE_CUDA=AUTO)" in out
    assert "FASTCOLLATE_CUDA=ON" not in out


def test_other_values_are_an_error(tmp_path):
    code, out = configure(tmp_path, "maybe")
    assert code != 0 and "FASTCOLLATE_CUDA=MAYBE: expected AUTO, ON or OFF" in out
