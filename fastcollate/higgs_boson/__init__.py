"""Higgs Audio v2 collation, boson-multimodal's format (mirrors csrc/higgs_boson).

`collator.py` is the public class, `reference.py` the pure-Python specification, `native.py` the glue to the
compiled pass, `config.py` the validated options, `whisper_audio.py` the whisper chunking and features shared
by both backends, `samples.py` the sample and batch types.
"""

from .collator import HiggsAudioSampleCollator
from .samples import ChatMLDatasetSample, HiggsAudioBatchInput

__all__ = ["ChatMLDatasetSample", "HiggsAudioBatchInput", "HiggsAudioSampleCollator"]
