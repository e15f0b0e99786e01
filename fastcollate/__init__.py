"""fastcollate: fast, bit-exact collation for fine-tuning audio-text LLMs (Higgs Audio v2).

One folder per capability, the same names as csrc/ and tests/:

- `common`: what every capability shares (the -100 label, boundary and argument checks, sizes, integer inputs,
  the on_empty policy, learned-label counting);
- `runtime`: where code runs (backend choice: python / cpu / cuda, the extension's import error, CUDA devices);
- `rolespan`: labels from token ids by role spans (RoleSpanSpec, presets, ChatCollator, packed rows) and the
  `role_span_labels` op;
- `delay`: the multi-codebook delay pattern ops (apply / revert, padded and ragged);
- `higgs_boson`: HiggsAudioSampleCollator (boson-multimodal's Higgs Audio v2 format);
- `higgs_hf`: HiggsAudioV2Collator (transformers' Higgs Audio v2 format);
- `packing`: a best-fit-decreasing plan of samples into rows of a token budget (plan_packs) and the batch
  sampler built on it (PackingSampler);
- `diagnostics`: label_stats, explain, show_labels (the token view), the HTML report and the
  `fastcollate inspect` command;
- `ops`: the public token-tensor ops (re-exported from `delay` and `rolespan`; `torch.ops.fastcollate.*`).

Each capability holds its pure-Python twin (the specification, `*reference.py`) beside the glue to its compiled
path. Imports flow one way: common <- runtime <- delay, rolespan, packing <- higgs_boson, higgs_hf <- diagnostics <- ops
and this module. The public names are re-exported here.
"""

import sys as _sys

from .common import EmptySampleWarning
from .diagnostics import LabelStats, explain, label_stats, show_labels
from .higgs_boson import ChatMLDatasetSample, HiggsAudioBatchInput, HiggsAudioSampleCollator
from .higgs_hf import HiggsAudioV2Collator
from .ops import (
    apply_delay_pattern,
    apply_delay_pattern_ragged,
    revert_delay_pattern,
    revert_delay_pattern_ragged,
    role_span_labels,
)
from .packing import PackingSampler, plan_packs
from .rolespan import ChatCollator, RoleSpanSpec, completion_only, presets
from .rolespan.packed import block_causal_mask
from .runtime import backend_info

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
    "PackingSampler",
    "RoleSpanSpec",
    "apply_delay_pattern",
    "apply_delay_pattern_ragged",
    "backend_info",
    "block_causal_mask",
    "completion_only",
    "explain",
    "label_stats",
    "plan_packs",
    "presets",
    "revert_delay_pattern",
    "revert_delay_pattern_ragged",
    "role_span_labels",
    "show_labels",
]
