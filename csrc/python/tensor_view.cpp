#include "python/tensor_view.h"

#include <string>

namespace fastcollate {
namespace {

// Torch objects compared by identity; looked up once, on the first call (torch is imported by then).
// Attribute names are interned once: they are looked up for every tensor of every sample.
struct TorchObjects {
  py::object tensor_type, int32, int64, strided, real_type;
  py::str layout{"layout"}, is_cpu{"is_cpu"}, device{"device"}, dtype{"dtype"}, shape{"shape"}, stride{"stride"},
      data_ptr{"data_ptr"};
  static const TorchObjects& get() {
    static const TorchObjects* objects = [] {
      py::module_ torch = py::module_::import("torch");
      auto* o = new TorchObjects{torch.attr("Tensor"), torch.attr("int32"), torch.attr("int64"),
                                 torch.attr("strided"), py::module_::import("numbers").attr("Real")};
      return o;  // intentionally leaked: destroying Python objects at exit is unsafe
    }();
    return *objects;
  }
};

// Shared checks of check_int_tensor() in fastcollate/common/checks.py, same order and messages.
// Returns the error, or "" with dims/type/data/sizes/strides filled.
std::string inspect_int_tensor(py::handle value, int ndim, IntType& type, const void*& data, int64_t* sizes,
                               int64_t* strides, KeepAlive& keep) {
  const TorchObjects& torch = TorchObjects::get();
  if (!py::isinstance(value, torch.tensor_type)) return "expected a torch.Tensor, got " + type_name(value);
  py::object layout = value.attr(torch.layout);
  if (!layout.is(torch.strided) || !value.attr(torch.is_cpu).cast<bool>()) {
    return "expected a dense CPU tensor, got " + std::string(py::str(layout)) + " on " +
           std::string(py::str(value.attr(torch.device)));
  }
  py::object dtype = value.attr(torch.dtype);
  if (dtype.is(torch.int64)) type = IntType::I64;
  else if (dtype.is(torch.int32)) type = IntType::I32;
  else return "expected dtype torch.int32 or torch.int64, got " + std::string(py::str(dtype));
  py::tuple shape = value.attr(torch.shape);
  if (static_cast<int>(shape.size()) != ndim) {
    // A plain tuple, as Python's tuple(value.shape) prints it: "(1, 177)", not "torch.Size([1, 177])".
    auto plain = py::reinterpret_steal<py::object>(PySequence_Tuple(shape.ptr()));
    return "expected a " + std::to_string(ndim) + "-D tensor, got shape " + std::string(py::str(plain));
  }
  py::tuple stride = value.attr(torch.stride)();
  for (int d = 0; d < ndim; ++d) {
    sizes[d] = shape[d].cast<int64_t>();
    strides[d] = stride[d].cast<int64_t>();
  }
  data = reinterpret_cast<const void*>(value.attr(torch.data_ptr)().cast<uintptr_t>());
  keep.push_back(py::reinterpret_borrow<py::object>(value));
  return "";
}

}  // namespace

std::string type_name(py::handle value) { return py::str(py::type::handle_of(value).attr("__name__")); }

bool is_torch_tensor(py::handle value) { return py::isinstance(value, TorchObjects::get().tensor_type); }

IdsView read_ids_view(py::handle value, KeepAlive& keep) {
  IdsView v;
  v.present = !value.is_none();
  int64_t size = 0, stride = 1;
  v.error = inspect_int_tensor(value, 1, v.type, v.data, &size, &stride, keep);
  v.size = size;
  v.stride = stride;
  return v;
}

CodesView read_codes_view(py::handle value, KeepAlive& keep) {
  CodesView v;
  v.present = !value.is_none();
  int64_t sizes[2] = {0, 0}, strides[2] = {0, 1};
  v.error = inspect_int_tensor(value, 2, v.type, v.data, sizes, strides, keep);
  v.rows = sizes[0];
  v.cols = sizes[1];
  v.row_stride = strides[0];
  v.col_stride = strides[1];
  return v;
}

bool read_reward(py::handle value, float& reward, std::string& error) {
  if (value.is_none()) return false;
  const TorchObjects& torch = TorchObjects::get();
  bool ok = false;
  if (py::isinstance(value, torch.tensor_type)) {
    ok = value.attr("numel")().cast<int64_t>() == 1 && !value.attr("is_complex")().cast<bool>();
  } else {
    ok = py::isinstance(value, torch.real_type);
  }
  if (!ok) {
    error = "expected a real number or None, got " + type_name(value);
    return true;
  }
  const double as_double = PyFloat_AsDouble(value.ptr());  // float(value), as the Python twin does
  if (as_double == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  reward = static_cast<float>(as_double);
  return true;
}

int64_t read_start_index(py::handle value, const std::string& unread, std::string& error) {
  if (value.is_none()) return 0;
  // operator.index() semantics (Python and numpy ints), bools excluded: as check_start_index() in
  // fastcollate/common/checks.py. Values past int64 clip (no turn index reaches them either way).
  if (PyIndex_Check(value.ptr()) && !PyBool_Check(value.ptr())) {
    if (!unread.empty()) {
      auto as_int = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
      if (!as_int) throw py::error_already_set();
      error = "is " + std::string(py::str(as_int)) + ", but " + unread;
      return 0;
    }
    const Py_ssize_t v = PyNumber_AsSsize_t(value.ptr(), nullptr);
    if (!PyErr_Occurred()) return v;
    PyErr_Clear();
  }
  error = "expected an int or None, got " + type_name(value);
  return 0;
}

}  // namespace fastcollate
