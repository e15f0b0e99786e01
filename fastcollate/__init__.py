"""fastcollate: fast, bit-exact collation for fine-tuning audio-text LLMs (Higgs Audio v2)."""

from ._backend import backend_info
from .delay_pattern import apply_delay_pattern, revert_delay_pattern
from .higgs_collator import HiggsAudioSampleCollator
from .samples import ChatMLDatasetSample, HiggsAudioBatchInput

__version__ = "0.1.0"

__all__ = [
    "ChatMLDatasetSample",
    "HiggsAudioBatchInput",
    "HiggsAudioSampleCollator",
    "apply_delay_pattern",
    "backend_info",
    "revert_delay_pattern",
]
