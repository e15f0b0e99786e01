import os

import pytest

import fastcollate

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
