import os
import sys
from pathlib import Path

import pytest

import fastcollate

# Tests are grouped in one folder per capability (no __init__.py: every basename is unique), and some reuse
# another folder's cases (tests/runtime/test_cuda_grid.py runs the rolespan batches on the grid runner): every
# folder is importable by basename, whichever of them pytest collects first. tests/higgs_hf/transformers is
# not among them: it runs in its own venv (setup_venv.sh).
_HERE = Path(__file__).resolve().parent
for _folder in sorted(_HERE.iterdir()):
    if (
        _folder.is_dir()
        and _folder.name.isidentifier()
        and not _folder.name.startswith("_")
        and str(_folder) not in sys.path
    ):
        sys.path.append(str(_folder))

COMPILED = fastcollate.backend_info()["compiled"]


def pytest_report_header(config):
    return f"fastcollate backends: {fastcollate.backend_info()}"


@pytest.fixture(scope="session")
def upstream():
    """The real boson-multimodal collator module, imported once per session (its first import is slow).

    In CI (CI=true) it must be installed: .ci/run installs it, so these tests run there instead of skipping.
    """
    try:
        from boson_multimodal.data_collator import higgs_audio_collator
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"boson-multimodal not installed: {exc}")
    return higgs_audio_collator


def backends():
    """Every backend this install can run; the compiled one is required in CI."""
    found = ["python"]
    if COMPILED or os.environ.get("CI") == "true":
        found.append("cpu")
    return found
