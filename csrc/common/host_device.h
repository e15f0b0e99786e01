// One kernel body, two devices: per-element helpers are marked FC_HD so nvcc compiles them for the GPU and
// the host compiler inlines the very same code into the CPU loops the tests exercise.
#pragma once

#if defined(__CUDACC__)
#define FC_HD __host__ __device__ __forceinline__
#else
#define FC_HD inline
#endif
