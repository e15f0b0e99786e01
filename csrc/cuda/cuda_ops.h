// The CUDA launches, as plain C++ declarations (no CUDA headers): the bindings (csrc/python/
// register_kernels.cpp, compiled by the host compiler) call them with the launch structs of the shared
// bodies. Defined in csrc/cuda/*.cu, only in a CUDA build (FASTCOLLATE_WITH_CUDA). Each runs on the given
// device and stream (torch's current stream, passed from Python), never synchronises, and throws
// std::runtime_error "{op}: CUDA error: {cudaGetErrorString}" when a launch fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "higgs/higgs_bodies.h"
#include "ops/delay_bodies.h"
#include "rolespan/rolespan_scan.h"

namespace fastcollate {

struct CudaTarget {
  int device = 0;
  uintptr_t stream = 0;  // a cudaStream_t (torch.cuda.current_stream().cuda_stream)
};

template <typename T>
void cuda_delay_apply(const CudaTarget& t, const DelayApplyLaunch<T>& a, int64_t numel);
template <typename T>
void cuda_delay_revert(const CudaTarget& t, const DelayRevertLaunch<T>& a, int64_t numel);
template <typename T>
void cuda_delay_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets, const DelayRaggedLaunch<T>& a);
template <typename T>
void cuda_delay_revert_ragged(const CudaTarget& t, const RaggedOffsetsLaunch& offsets,
                              const DelayRevertRaggedLaunch<T>& a);
template <typename T>
void cuda_role_span_rows(const CudaTarget& t, const RsRowsBody<T>& body, const char* op);
void cuda_higgs(const CudaTarget& t, const HiggsLaunch& a);

// Devices the runtime sees (0 when none), and why none is usable ("" when one is).
int cuda_device_count(std::string& why_not);
// The architectures compiled in ("sm_75", ..., "compute_90").
std::vector<std::string> cuda_architectures();

}  // namespace fastcollate
