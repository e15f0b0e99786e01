# csrc/rolespan: role-span masking (ChatCollator, the role_span_labels op) and its binding.
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/rolespan/rolespan.cpp
  csrc/rolespan/rolespan_scan.cpp
  csrc/rolespan/rolespan_labels.cpp
  csrc/rolespan/rolespan_entry.cpp
)
list(APPEND FASTCOLLATE_CUDA_SOURCES
  csrc/rolespan/rolespan.cu
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_rolespan.cpp
)
