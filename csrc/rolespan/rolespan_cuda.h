// The role-span row kernels on a CUDA device (csrc/rolespan/rolespan.cu), as plain C++ declarations (no CUDA
// headers). Only in a CUDA build (FASTCOLLATE_WITH_CUDA). Run on the given device and stream, never
// synchronise, and throw std::runtime_error "{op}: CUDA error: {message}" when a launch fails.
#pragma once

#include "rolespan/rolespan_compact.h"
#include "rolespan/rolespan_scan.h"
#include "runtime/target.h"

namespace fastcollate {

// The chunk scan (rolespan_scan.h).
template <typename T>
void cuda_rolespan_rows(const CudaTarget& t, const RolespanRowsBody<T>& body, const char* op);
// The specials compaction (rolespan_compact.h).
template <typename T>
void cuda_rolespan_rows(const CudaTarget& t, const RolespanCompactBody<T>& body, const char* op);

}  // namespace fastcollate
