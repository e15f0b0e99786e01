"""fastcollate: fast, bit-exact collation for fine-tuning audio-text LLMs (Higgs Audio v2).

The package mirrors csrc/: `higgs` (the Higgs Audio collator, boson-multimodal's format), `higgs_v2` (transformers'
Higgs Audio v2 format), `rolespan` (labels from token ids and the chat collator), `ops` (token-tensor operations),
`diagnostics` (label counts, explain, inspect) and `common`. The public names are re-exported here.
"""

import sys as _sys

from ._backend import backend_info
from .common import EmptySampleWarning
from .diagnostics import LabelStats, explain, label_stats
from .higgs import ChatMLDatasetSample, HiggsAudioBatchInput, HiggsAudioSampleCollator
from .higgs_v2 import HiggsAudioV2Collator
from .ops import (apply_delay_pattern, apply_delay_pattern_ragged, revert_delay_pattern, revert_delay_pattern_ragged,
                  role_span_labels)
from .rolespan import ChatCollator, RoleSpanSpec, completion_only, presets
from .rolespan.packed import block_causal_mask

# `import fastcollate.presets` / `from fastcollate.presets import llama3` keep working: presets is public API.
_sys.modules[__name__ + ".presets"] = presets

__version__ = "0.1.0"

__all__ = [
    "ChatCollator",
    "ChatMLDatasetSample",
    "EmptySampleWarning",
    "HiggsAudioBatchInput",
    "HiggsAudioSampleCollator",
    "HiggsAudioV2Collator",
    "LabelStats",
    "RoleSpanSpec",
    "apply_delay_pattern",
    "apply_delay_pattern_ragged",
    "backend_info",
    "block_causal_mask",
    "completion_only",
    "explain",
    "label_stats",
    "presets",
    "revert_delay_pattern",
    "revert_delay_pattern_ragged",
    "role_span_labels",
]
