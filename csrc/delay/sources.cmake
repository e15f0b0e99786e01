# csrc/delay: the multi-codebook delay pattern ops and their binding.
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/delay/delay_pattern.cpp
  csrc/delay/delay_entry.cpp
  csrc/delay/delay_views.cpp
)
list(APPEND FASTCOLLATE_CUDA_SOURCES
  csrc/delay/delay.cu
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_delay.cpp
)
