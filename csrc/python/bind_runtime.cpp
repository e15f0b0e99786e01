// _core.runtime: what this build can run on (its CUDA kernels and the devices the CUDA runtime sees).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "python/output_arena.h"
#include "runtime/target.h"

namespace fastcollate {

namespace py = pybind11;

namespace {

py::tuple device_count() {
#if defined(FASTCOLLATE_WITH_CUDA)
  std::string why_not;
  const int count = cuda_device_count(why_not);
  return py::make_tuple(count, why_not);
#else
  return py::make_tuple(0, "fastcollate was built without its CUDA kernels");
#endif
}

}  // namespace

void bind_runtime(py::module_& m) {
#if defined(FASTCOLLATE_WITH_CUDA)
  m.attr("cuda_built") = true;
  m.attr("cuda_architectures") = cuda_architectures();
#else
  m.attr("cuda_built") = false;
  m.attr("cuda_architectures") = std::vector<std::string>();
#endif
  m.def("cuda_device_count", &device_count, "(devices the CUDA runtime sees, why none is usable or '').");
  m.def("host_output_bytes", &host_output_bytes,
        "Bytes of the collators' host output allocations alive in the process, each rounded up to 64 (tests).");
}

}  // namespace fastcollate
