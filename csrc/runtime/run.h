// Runs a kernel's launch sequence on its target: the CPU grid runner (kGrid) or a CUDA device (kCuda). The
// CUDA side is compiled only in a CUDA build (FASTCOLLATE_WITH_CUDA); without it a CUDA target raises
// std::runtime_error. Call without the GIL: nothing here touches Python.
#pragma once

#include <stdexcept>

#include "runtime/grid.h"
#include "runtime/target.h"

#if defined(FASTCOLLATE_WITH_CUDA)
#define FC_ON_CUDA(call) call
#else
#define FC_ON_CUDA(call) throw std::runtime_error("fastcollate was built without its CUDA kernels")
#endif

namespace fastcollate {

// on_grid(CpuLauncher&) on the grid runner, on_cuda(const CudaTarget&) on a device (its body wrapped in
// FC_ON_CUDA, so a build without CUDA needs no CUDA symbol).
template <typename Grid, typename Cuda>
void run_on(const Target& target, Grid&& on_grid, Cuda&& on_cuda) {
  if (target.cuda()) {
    on_cuda(target.cuda_target());
  } else {
    CpuLauncher l{target.reverse};
    on_grid(l);
  }
}

}  // namespace fastcollate
