// Where a call's kernels run. A Target is read once per call by the bindings and handed to the capability's
// entry point: the CPU path (the framework-free fills), the CPU grid runner (the CUDA kernels' bodies for every
// index, on CPU tensors: the tests), or a CUDA device and stream (torch's current stream, passed from Python).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fastcollate {

struct CudaTarget {
  int device = 0;
  uintptr_t stream = 0;  // a cudaStream_t (torch.cuda.current_stream().cuda_stream)
};

enum class TargetKind : uint8_t { kCpu, kGrid, kCuda };

struct Target {
  TargetKind kind = TargetKind::kCpu;
  int device = -1;           // the CUDA device (kCuda); -1 otherwise
  uintptr_t stream = 0;      // kCuda: the cudaStream_t to launch on
  bool reverse = false;      // kGrid: threads of a phase in descending order (a race between threads would show)
  bool per_element = false;  // kCpu: run the one-element kernel for every index (the CUDA form), for tests

  static Target cpu(bool per_element = false) { return Target{TargetKind::kCpu, -1, 0, false, per_element}; }
  // device -1: the CPU grid runner; else that CUDA device.
  static Target kernels(int device, uintptr_t stream, bool reverse) {
    return Target{device < 0 ? TargetKind::kGrid : TargetKind::kCuda, device < 0 ? -1 : device, stream, reverse, false};
  }
  bool cuda() const { return kind == TargetKind::kCuda; }
  CudaTarget cuda_target() const { return CudaTarget{device, stream}; }
};

// The CUDA runtime as this build sees it (csrc/runtime/runtime.cu; only in a CUDA build, FASTCOLLATE_WITH_CUDA).
// Devices the runtime sees (0 when none), and why none is usable ("" when one is).
int cuda_device_count(std::string& why_not);
// The architectures compiled in ("sm_75", ..., "compute_90").
std::vector<std::string> cuda_architectures();

}  // namespace fastcollate
