// The role-span row kernel on a CUDA device (csrc/rolespan/rolespan.cu), as a plain C++ declaration (no CUDA
// headers). Only in a CUDA build (FASTCOLLATE_WITH_CUDA). Runs on the given device and stream, never
// synchronises, and throws std::runtime_error "{op}: CUDA error: {message}" when a launch fails.
#pragma once

#include "rolespan/rolespan_scan.h"
#include "runtime/target.h"

namespace fastcollate {

template <typename T>
void cuda_rolespan_rows(const CudaTarget& t, const RolespanRowsBody<T>& body, const char* op);

}  // namespace fastcollate
