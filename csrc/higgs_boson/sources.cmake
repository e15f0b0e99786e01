# csrc/higgs_boson: HiggsAudioSampleCollator (boson-multimodal's format) and its binding.
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/higgs_boson/higgs_boson_plan.cpp
  csrc/higgs_boson/higgs_boson_fill.cpp
  csrc/higgs_boson/higgs_boson_labels.cpp
  csrc/higgs_boson/higgs_boson_stage.cpp
  csrc/higgs_boson/higgs_boson_chunks.cpp
)
list(APPEND FASTCOLLATE_CUDA_SOURCES
  csrc/higgs_boson/higgs_boson.cu
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_higgs_boson.cpp
)
