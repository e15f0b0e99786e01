# csrc/runtime: where kernels run. The CUDA runtime queries (CUDA builds only).
list(APPEND FASTCOLLATE_CUDA_SOURCES
  csrc/runtime/runtime.cu
)
