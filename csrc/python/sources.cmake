# csrc/python: the module definition, the tensor reader and the output block (the bindings' shared parts).
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/module.cpp
  csrc/python/reader.cpp
  csrc/python/reader_forms.cpp
  csrc/python/output_arena.cpp
  csrc/python/feature_reader.cpp
  csrc/python/staging.cpp
)
