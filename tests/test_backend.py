import pytest

import fastcollate
from fastcollate import _backend
from higgs_samples import KW

from conftest import COMPILED


def test_backend_info_reports_the_build():
    info = fastcollate.backend_info()
    assert info["compiled"] is COMPILED
    assert info["auto"] == ("cpu" if COMPILED else "python")
    assert info["cuda_built"] is bool(getattr(_backend._core, "cuda_built", False))


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
