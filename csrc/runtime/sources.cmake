# csrc/runtime: where kernels run. The CUDA runtime queries (CUDA builds only) and their binding.
list(APPEND FASTCOLLATE_CUDA_SOURCES
  csrc/runtime/runtime.cu
)
list(APPEND FASTCOLLATE_BINDING_SOURCES
  csrc/python/bind_runtime.cpp
)
