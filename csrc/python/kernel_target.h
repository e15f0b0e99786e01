// Where the shared kernel bodies run for one call: the CPU grid runner (device -1, the tests' form) or a CUDA
// device and stream (backend="cuda"), and the staging buffer such a call packs its host-side inputs into.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>

#include "delay/delay_cuda.h"
#include "higgs_boson/higgs_boson_cuda.h"
#include "rolespan/rolespan_cuda.h"
#include "runtime/target.h"

namespace fastcollate {

namespace py = pybind11;

struct KernelTarget {
  int device = -1;      // -1: the CPU grid runner; else a CUDA device index
  uintptr_t stream = 0;  // the cudaStream_t to launch on (torch's current stream)
  bool reverse = false;  // CPU grid runner: threads of a phase in descending order
  bool cuda() const { return device >= 0; }
  CudaTarget cuda_target() const { return CudaTarget{device, stream}; }
  py::object torch_device() const;  // torch.device("cuda", device), or None for the CPU
};

// `words` int64 the host packs (pinned memory for a CUDA target, so the copy is one asynchronous DMA), and the
// buffer the kernels read: the same memory for the CPU grid runner, a device copy after upload() for CUDA.
class Staging {
 public:
  Staging(int64_t words, const KernelTarget& target);
  int64_t* host() const { return host_data_; }
  const int64_t* kernels() const { return kernel_data_; }
  void upload();  // CUDA: one host-to-device copy on the current stream (non-blocking)

 private:
  py::object host_, device_;
  int64_t* host_data_ = nullptr;
  const int64_t* kernel_data_ = nullptr;
};

// The launches, on the target (call without the GIL).
void run_higgs(const KernelTarget& target, const HiggsLaunch& a);
template <typename T>
void run_rolespan_rows(const KernelTarget& target, const RolespanRowsBody<T>& body, const char* op);

}  // namespace fastcollate
