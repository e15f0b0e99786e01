#include "python/op_tensors.h"

#include <stdexcept>

namespace fastcollate {
namespace {

// Torch objects compared by identity, looked up once (torch is imported by the time an op runs); leaked on
// purpose: destroying Python objects at exit is unsafe.
struct OpTorch {
  py::object tensor_type, strided, bool_, int16, int32, int64;
  py::str layout{"layout"}, is_cpu{"is_cpu"}, dtype{"dtype"}, shape{"shape"}, stride{"stride"}, data_ptr{"data_ptr"},
      device{"device"}, type{"type"}, index{"index"};
  static const OpTorch& get() {
    static const OpTorch* t = [] {
      py::module_ torch = py::module_::import("torch");
      return new OpTorch{torch.attr("Tensor"), torch.attr("strided"), torch.attr("bool"),
                         torch.attr("int16"),  torch.attr("int32"),   torch.attr("int64")};
    }();
    return *t;
  }
};

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

ElemType arg_type(const py::object& dtype, const OpTorch& t) {
  if (dtype.is(t.int64)) return ElemType::kInt64;
  if (dtype.is(t.int32)) return ElemType::kInt32;
  if (dtype.is(t.int16)) return ElemType::kInt16;
  if (dtype.is(t.bool_)) return ElemType::kBool;
  return ElemType::kOther;
}

// CPU (device < 0) or that CUDA device.
bool on_device(py::handle value, int device, const OpTorch& t) {
  if (device < 0) return value.attr(t.is_cpu).cast<bool>();
  py::object d = value.attr(t.device);
  py::object index = d.attr(t.index);
  return d.attr(t.type).cast<std::string>() == "cuda" && !index.is_none() && index.cast<int>() == device;
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

TensorArg read_tensor_arg(py::handle value, const std::string& name, int min_dim, int max_dim,
                          std::vector<py::object>& keep, int device) {
  const OpTorch& t = OpTorch::get();
  if (!py::isinstance(value, t.tensor_type)) {
    fail(name, "expected a torch.Tensor, got " + std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  py::object layout = value.attr(t.layout);
  if (!layout.is(t.strided) || !on_device(value, device, t)) {
    fail(name, device < 0 ? "expected a dense CPU tensor" : "expected a dense tensor on cuda:" + std::to_string(device));
  }
  TensorArg arg;
  py::object dtype = value.attr(t.dtype);
  arg.type = arg_type(dtype, t);
  arg.dtype_name = py::str(dtype);
  py::tuple shape = value.attr(t.shape);
  arg.ndim = static_cast<int>(shape.size());
  if (arg.ndim < min_dim || arg.ndim > max_dim) {
    fail(name, "expected " + std::to_string(min_dim) + (min_dim == max_dim ? "" : " to " + std::to_string(max_dim)) +
                   " dimensions, got " + std::to_string(arg.ndim));
  }
  py::tuple stride = value.attr(t.stride)();
  for (int d = 0; d < arg.ndim; ++d) {
    arg.size[d] = shape[d].cast<int64_t>();
    arg.stride[d] = stride[d].cast<int64_t>();
  }
  arg.data = reinterpret_cast<void*>(value.attr(t.data_ptr)().cast<uintptr_t>());
  // The public ops (fastcollate/ops) hand over aligned, materialised tensors; a direct caller must too: an
  // unaligned typed load is undefined behaviour, and a negative view's memory holds the negated values.
  const auto element_size = value.attr("element_size")().cast<uintptr_t>();
  if (element_size > 1 && reinterpret_cast<uintptr_t>(arg.data) % element_size != 0) {
    fail(name, "expected a tensor whose data is aligned to its element size");
  }
  if (value.attr("is_neg")().cast<bool>()) fail(name, "expected a tensor without the negative bit (resolve_neg())");
  keep.push_back(py::reinterpret_borrow<py::object>(value));
  return arg;
}

void require_shape(const TensorArg& t, const std::string& name, const std::vector<int64_t>& shape) {
  const std::vector<int64_t> got(t.size, t.size + t.ndim);
  if (got != shape) fail(name, "expected shape " + shape_string(shape) + ", got " + shape_string(got));
}

std::vector<int64_t> read_int_values(py::handle value, const std::string& name, std::vector<py::object>& keep) {
  const TensorArg t = read_tensor_arg(value, name, 1, 1, keep);
  std::vector<int64_t> out(t.size[0]);
  if (t.type == ElemType::kInt64) {
    for (int64_t i = 0; i < t.size[0]; ++i) out[i] = static_cast<const int64_t*>(t.data)[i * t.stride[0]];
  } else if (t.type == ElemType::kInt32) {
    for (int64_t i = 0; i < t.size[0]; ++i) out[i] = static_cast<const int32_t*>(t.data)[i * t.stride[0]];
  } else {
    fail(name, "expected dtype torch.int32 or torch.int64, got " + t.dtype_name);
  }
  return out;
}

}  // namespace fastcollate
