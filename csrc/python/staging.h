// The staging buffer a kernel call (a grid or CUDA Target, csrc/runtime/target.h) packs its host-side inputs
// into, and the torch.device of a target's outputs.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>

#include "runtime/target.h"

namespace fastcollate {

namespace py = pybind11;

// torch.device("cuda", device) for a CUDA target, or None (host memory) for the CPU and the grid runner.
py::object torch_device(const Target& target);

// `words` int64 the host packs (pinned memory for a CUDA target, so the copy is one asynchronous DMA), and the
// buffer the kernels read: the same memory for the CPU grid runner, a device copy after upload() for CUDA.
class Staging {
 public:
  Staging(int64_t words, const Target& target);
  int64_t* host() const { return host_data_; }
  const int64_t* kernels() const { return kernel_data_; }
  void upload();  // CUDA: one host-to-device copy on the current stream (non-blocking)

 private:
  py::object host_, device_;
  int64_t* host_data_ = nullptr;
  const int64_t* kernel_data_ = nullptr;
};

}  // namespace fastcollate
