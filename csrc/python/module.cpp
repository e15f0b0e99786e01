// The extension module: registration only. Each area lives in its own register_*.cpp.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastcollate {
void register_higgs(py::module_& m);
void register_rolespan(py::module_& m);
void register_ops(py::module_& m);
void register_higgs_v2(py::module_& m);
void register_kernels(py::module_& m);
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastcollate compiled kernels (CPU, and CUDA when built). Talks to tensors through raw buffers; never "
            "links libtorch.";
  m.attr("__version__") = FASTCOLLATE_VERSION;
  fastcollate::register_higgs(m);
  fastcollate::register_rolespan(m);
  fastcollate::register_ops(m);
  fastcollate::register_higgs_v2(m);
  fastcollate::register_kernels(m);  // also sets cuda_built and cuda_architectures
}
