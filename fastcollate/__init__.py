"""fastcollate: fast, bit-exact collation for fine-tuning audio-text LLMs (Higgs Audio v2)."""

from ._backend import backend_info
from . import presets
from .chat_collator import ChatCollator
from .empty_policy import EmptySampleWarning
from .delay_pattern import apply_delay_pattern, revert_delay_pattern
from .explain import explain
from .higgs_collator import HiggsAudioSampleCollator
from .label_stats import LabelStats, label_stats
from .rolespan_spec import RoleSpanSpec, completion_only
from .samples import ChatMLDatasetSample, HiggsAudioBatchInput

__version__ = "0.1.0"

__all__ = [
    "ChatCollator",
    "ChatMLDatasetSample",
    "EmptySampleWarning",
    "HiggsAudioBatchInput",
    "HiggsAudioSampleCollator",
    "LabelStats",
    "RoleSpanSpec",
    "apply_delay_pattern",
    "backend_info",
    "completion_only",
    "explain",
    "label_stats",
    "presets",
    "revert_delay_pattern",
]
