// The launch, the only part of a kernel that is CUDA-specific: the bodies are FC_HD code shared with the CPU
// grid runner (csrc/runtime/grid.h), and the launch sequences (delay_bodies.h, rolespan_scan.h,
// higgs_boson_bodies.h) take this launcher or the CPU one. Every launch goes to the caller's stream (torch's
// current stream), on the tensors' device, and is checked: an error raises std::runtime_error
// "{op}: CUDA error: {cudaGetErrorString}". Nothing here synchronises (safe under CUDA graph capture).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "runtime/grid.h"
#include "runtime/target.h"

namespace fastcollate {

[[noreturn]] inline void cuda_fail(const char* op, cudaError_t e) {
  throw std::runtime_error(std::string(op) + ": CUDA error: " + cudaGetErrorString(e));
}

inline void cuda_check(const char* op, cudaError_t e) {
  if (e != cudaSuccess) cuda_fail(op, e);
}

constexpr int kElementThreads = 256;

// One element per thread; a grid-stride loop past 2^20 blocks (every index is covered for any n).
template <typename Body, typename Params>
__global__ void __launch_bounds__(kElementThreads) element_kernel(const __grid_constant__ Params p, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
#pragma unroll 1  // one pass for most threads: unrolling would cost a 64-bit division for the trip count
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) Body::run(i, p);
}

// A block body: every thread runs the phases in order, a barrier between them (grid.h).
template <typename Body>
__global__ void __launch_bounds__(Body::threads()) block_kernel(const __grid_constant__ Body body) {
  extern __shared__ __align__(16) unsigned char shared[];
  typename Body::Thread regs{};
  for (int phase = 0; phase < Body::phases(); ++phase) {
    body.run(phase, blockIdx.x, static_cast<int>(threadIdx.x), regs, shared);
    __syncthreads();
  }
}

// Launches on `stream` with the tensors' device current, restoring the caller's device after.
class CudaLauncher {
 public:
  CudaLauncher(const CudaTarget& t, const char* op) : op_(op), stream_(reinterpret_cast<cudaStream_t>(t.stream)) {
    cuda_check(op_, cudaGetDevice(&previous_));
    if (previous_ != t.device) cuda_check(op_, cudaSetDevice(t.device));
  }
  ~CudaLauncher() {
    int now = previous_;
    if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
  }
  CudaLauncher(const CudaLauncher&) = delete;
  CudaLauncher& operator=(const CudaLauncher&) = delete;

  template <typename Body, typename Params>
  void elements(int64_t n, const Params& p) {
    if (n <= 0) return;
    const int64_t blocks = (n + kElementThreads - 1) / kElementThreads;
    const unsigned grid = static_cast<unsigned>(blocks < (int64_t{1} << 20) ? blocks : (int64_t{1} << 20));
    element_kernel<Body, Params><<<grid, kElementThreads, 0, stream_>>>(p, n);
    cuda_check(op_, cudaGetLastError());
  }

  template <typename Body>
  void blocks(const Body& body, int64_t n) {
    if (n <= 0) return;
    if (n > 0x7fffffff) throw std::runtime_error(std::string(op_) + ": more than 2^31 - 1 rows");
    const int bytes = static_cast<int>(body.shared_bytes());
    if (bytes > 48 * 1024) {  // past the default limit, the kernel must opt in (per device: set every time)
      cuda_check(op_, cudaFuncSetAttribute(block_kernel<Body>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
    }
    block_kernel<Body><<<static_cast<unsigned>(n), Body::threads(), static_cast<size_t>(bytes), stream_>>>(body);
    cuda_check(op_, cudaGetLastError());
  }

  void copy(void* dst, const void* src, int64_t bytes) {
    cuda_check(op_, cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, stream_));
  }

 private:
  const char* op_;
  cudaStream_t stream_;
  int previous_ = 0;
};

}  // namespace fastcollate
