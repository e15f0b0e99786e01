# csrc/higgs_hf: HiggsAudioV2Collator (transformers' Higgs Audio v2 format) and its binding.
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/higgs_hf/higgs_hf_plan.cpp
  csrc/higgs_hf/higgs_hf_fill.cpp
  csrc/higgs_hf/code_frames.cpp
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_higgs_hf.cpp
)
