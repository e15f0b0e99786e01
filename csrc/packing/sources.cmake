# csrc/packing: the best-fit-decreasing packing planner and its binding.
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/packing/pack_planner.cpp
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_packing.cpp
)
