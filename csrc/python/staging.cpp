#include "python/staging.h"

namespace fastcollate {

py::object torch_device(const Target& target) {
  if (!target.cuda()) return py::none();
  return py::module_::import("torch").attr("device")("cuda", target.device);
}

Staging::Staging(int64_t words, const Target& target) {
  py::module_ torch = py::module_::import("torch");
  py::object int64 = torch.attr("int64");
  host_ = torch.attr("empty")(py::make_tuple(words), py::arg("dtype") = int64, py::arg("pin_memory") = target.cuda());
  host_data_ = reinterpret_cast<int64_t*>(host_.attr("data_ptr")().cast<uintptr_t>());
  kernel_data_ = host_data_;
  if (target.cuda()) {
    device_ =
        torch.attr("empty")(py::make_tuple(words), py::arg("dtype") = int64, py::arg("device") = torch_device(target));
    kernel_data_ = reinterpret_cast<const int64_t*>(device_.attr("data_ptr")().cast<uintptr_t>());
  }
}

void Staging::upload() {
  if (device_) device_.attr("copy_")(host_, py::arg("non_blocking") = true);
}

}  // namespace fastcollate
