"""The multi-codebook delay pattern (mirrors csrc/delay): apply and revert, padded and ragged.

`delay_pattern.py` holds the public ops (re-exported by fastcollate.ops), `delay_pattern_reference.py` their
pure-Python twin (the specification), `checks.py` the argument checks both share, `native.py` and `cuda.py`
the compiled glue (CPU, CUDA) and `library.py` the torch.library registrations (torch.compile, meta tensors).
"""
