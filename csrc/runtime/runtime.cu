// What the CUDA runtime (linked statically) says about this machine, for backend_info()["cuda"]. Asking needs
// no GPU: without a driver or a device the runtime returns an error, reported as the reason.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/target.h"

namespace fastcollate {

int cuda_device_count(std::string& why_not) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    why_not = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();  // not sticky: leave no error behind for the next call
    return 0;
  }
  why_not = count > 0 ? "" : "the CUDA runtime found no device";
  return count;
}

std::vector<std::string> cuda_architectures() {
  std::vector<std::string> out;
  const std::string list = FASTCOLLATE_CUDA_ARCHS;  // CMake's CUDA_ARCHITECTURES, e.g. "75-real,...,90"
  size_t begin = 0;
  while (begin <= list.size()) {
    const size_t end = std::min(list.find(',', begin), list.size());
    const std::string entry = list.substr(begin, end - begin);
    if (!entry.empty()) {
      const std::string number = entry.substr(0, entry.find('-'));
      const bool real_only = entry.find("-real") != std::string::npos;
      const bool virtual_only = entry.find("-virtual") != std::string::npos;
      if (!virtual_only) out.push_back("sm_" + number);
      if (!real_only) out.push_back("compute_" + number);  // PTX, JIT-compiled for newer GPUs
    }
    begin = end + 1;
  }
  return out;
}

}  // namespace fastcollate
