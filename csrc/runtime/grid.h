// Kernel bodies written once for two devices, and the CPU "grid runner" that executes them.
//
// Every CUDA kernel of fastcollate is a body of FC_HD code plus a launch (csrc/runtime/launch.cuh):
//   * an element body: `Body::run(i, params)` computes the outputs of linear index i, for i in [0, n);
//   * a block body: a struct with `phases()`, `shared_bytes()` and `run(phase, block, thread, regs, shared)`,
//     executed by `threads()` threads per block with a barrier between consecutive phases. `regs` is the
//     thread's registers (a `Body::Thread`, kept across phases), `shared` the block's shared memory.
// On the GPU a thread runs the phases in order with __syncthreads() between them. The CPU runners below run
// each phase for every thread of a block before the next phase, which is exactly what the barriers
// guarantee, so the tests execute the kernels' own index arithmetic, bounds, fills and scans on the CPU.
// Threads of one phase run in ascending or descending order (`reverse`): a body that reads, within one
// phase, what another thread writes in it (a race on the GPU) gives different results in the two orders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/host_device.h"

namespace fastcollate {

// A flag in global memory that any thread may raise (every writer stores the same value: no race on it).
FC_HD void fc_raise(int32_t* flag) {
  if (flag) *flag = 1;
}

// The CPU grid runners (host only: the GPU uses csrc/runtime/launch.cuh).
#if !defined(__CUDA_ARCH__)

template <typename Body, typename Params>
inline void run_elements_cpu(int64_t n, const Params& p, bool reverse = false) {
  for (int64_t j = 0; j < n; ++j) Body::run(reverse ? n - 1 - j : j, p);
}

template <typename Body>
inline void run_blocks_cpu(const Body& body, int64_t blocks, bool reverse = false) {
  const int threads = body.threads();
  // max_align_t storage: the body lays out int64 arrays in it as it does in __shared__ memory.
  std::vector<std::max_align_t> storage(
      (body.shared_bytes() + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t) + 1);
  unsigned char* shared = reinterpret_cast<unsigned char*>(storage.data());
  std::vector<typename Body::Thread> regs(static_cast<size_t>(threads));
  for (int64_t b = 0; b < blocks; ++b) {
    for (auto& r : regs) r = typename Body::Thread{};
    for (int phase = 0; phase < body.phases(); ++phase) {
      for (int j = 0; j < threads; ++j) {
        const int t = reverse ? threads - 1 - j : j;
        body.run(phase, b, t, regs[static_cast<size_t>(t)], shared);
      }
    }
  }
}

// The launcher of the CPU grid runner: the launch sequences (e.g. csrc/delay/delay_bodies.h) take any launcher,
// this one or the CUDA stream launcher of csrc/runtime/launch.cuh, so both run the same kernels in the same order.
struct CpuLauncher {
  bool reverse = false;
  template <typename Body, typename Params>
  void elements(int64_t n, const Params& p) {
    run_elements_cpu<Body>(n, p, reverse);
  }
  template <typename Body>
  void blocks(const Body& body, int64_t n) {
    run_blocks_cpu(body, n, reverse);
  }
  void copy(void* dst, const void* src, int64_t bytes) { std::memcpy(dst, src, static_cast<size_t>(bytes)); }
};

#endif

}  // namespace fastcollate
