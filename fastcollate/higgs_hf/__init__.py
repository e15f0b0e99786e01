"""Higgs Audio v2 collation for transformers' `HiggsAudioV2ForConditionalGeneration` (mirrors csrc/higgs_hf).

`collator.py` is the public class, `reference.py` the pure-Python specification, `features.py` the input
rules (read and checked in the order the compiled path checks them), `config.py` the validated options,
`native.py` the glue to the compiled pass.
"""

from .collator import HiggsAudioV2Collator

__all__ = ["HiggsAudioV2Collator"]
