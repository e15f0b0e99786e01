#include "python/reader.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/checked_size.h"

namespace fastcollate {
namespace {

// Torch objects compared by identity, and attribute names interned once (they are looked up for every tensor of
// every sample). Built by init_reader() while the module is imported (csrc/python/module.cpp), never on a first
// call: a function-local static whose initialiser runs Python (imports, inspect.getattr_static) lets the GIL go
// under the C++ init guard, and a second thread then waits on that guard holding the GIL the first one needs.
struct TorchObjects {
  py::object tensor_type, bool_, int16, int32, int64, strided, real_type;
  py::str layout{"layout"}, is_cpu{"is_cpu"}, device{"device"}, dtype{"dtype"}, shape{"shape"}, stride{"stride"},
      data_ptr{"data_ptr"}, is_neg{"is_neg"}, is_contiguous{"is_contiguous"}, resolve_neg{"resolve_neg"},
      untyped_storage{"untyped_storage"}, nbytes{"nbytes"}, type{"type"}, index{"index"};
  py::object as_subclass_method;  // TensorBase.as_subclass: a subclass's plain tensor (see plain_tensor)
  // The C-level descriptors behind those attributes (torch._C.TensorBase), called directly for plain
  // torch.Tensor objects: no attribute lookup, no bound-method object per call (metadata reads are a large
  // part of a batch's cost over its copy floor).
  py::object layout_get, is_cpu_get, dtype_get, shape_get, stride_method, data_ptr_method, is_neg_method,
      is_contiguous_method;
  static const TorchObjects* instance;  // leaked on purpose: destroying Python objects at exit is unsafe
  static const TorchObjects& get() { return *instance; }
};

const TorchObjects* TorchObjects::instance = nullptr;

// Attribute `name` of an exact torch.Tensor, through its C descriptor (the same getter attribute access would
// reach, without the lookup).
py::object tensor_attr(py::handle t, const py::object& descriptor) {
  PyObject* d = descriptor.ptr();
  PyObject* r = Py_TYPE(d)->tp_descr_get(d, t.ptr(), reinterpret_cast<PyObject*>(Py_TYPE(t.ptr())));
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

py::object tensor_call(py::handle t, const py::object& method) {
  PyObject* self = t.ptr();
  PyObject* r = PyObject_Vectorcall(method.ptr(), &self, 1, nullptr);
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

// Elements of the view beyond its storage (an expanded or self-overlapping view) would make a kernel loop for
// as long as the view is big while reading the same few values: the view may repeat memory only as long as
// its element count stays within its storage. Returns the error, or "".
std::string check_not_repeating(py::handle value, int ndim, const int64_t* sizes, const int64_t* strides) {
  int64_t numel = 1, extent = 1;
  for (int d = 0; d < ndim; ++d) {
    if (sizes[d] == 0) return "";
    if (__builtin_mul_overflow(numel, sizes[d], &numel)) numel = INT64_MAX;
    const u128 reach = static_cast<u128>(sizes[d] - 1) * static_cast<u128>(strides[d] < 0 ? -strides[d] : strides[d]);
    extent = static_cast<int64_t>(std::min<u128>(static_cast<u128>(extent) + reach, INT64_MAX));
  }
  if (numel <= extent) return "";  // every element at its own address: the view lies within its storage
  const TorchObjects& torch = TorchObjects::get();
  const int64_t stored = value.attr(torch.untyped_storage)().attr(torch.nbytes)().cast<int64_t>() /
                         value.attr("element_size")().cast<int64_t>();
  if (numel <= stored) return "";
  return "expected a view whose elements stay within its storage: " + std::to_string(numel) + " elements over " +
         std::to_string(stored) + " stored (an expanded tensor?); pass a contiguous copy";
}

bool is_plain_tensor(py::handle value, const TorchObjects& torch) {
  return Py_TYPE(value.ptr()) == reinterpret_cast<PyTypeObject*>(torch.tensor_type.ptr());
}

// The tensor to read for `value`, a torch.Tensor or subclass instance (its real type, not its __class__): itself,
// or for a subclass the plain torch.Tensor over the same storage, so no attribute the subclass overrides (shape,
// stride, data_ptr, ...) decides what is read. A subclass that torch dispatches to Python (__torch_dispatch__)
// runs Python code here, and a wrapper subclass (FakeTensor, DTensor) comes back as itself: it has no storage
// of its own to read, and the result is a null object. As the twin's plain_tensor (fastcollate/common/checks.py).
py::object plain_tensor(py::handle value, Keep& keep) {
  const TorchObjects& torch = TorchObjects::get();
  if (is_plain_tensor(value, torch)) return py::reinterpret_borrow<py::object>(value);
  keep.ran_python = true;
  PyObject* args[] = {value.ptr(), torch.tensor_type.ptr()};
  PyObject* r = PyObject_Vectorcall(torch.as_subclass_method.ptr(), args, 2, nullptr);
  if (r == nullptr) throw py::error_already_set();
  auto plain = py::reinterpret_steal<py::object>(r);
  return is_plain_tensor(plain, torch) ? plain : py::object();
}

std::string wrapper_subclass_problem(py::handle value) {
  return "expected a torch.Tensor over its own storage, got " + type_name(value) +
         " (a tensor subclass that wraps others, as FakeTensor or DTensor); pass the tensor it wraps";
}

// Records a tensor read in place, for check_unmoved().
void record_read(Keep& keep, py::handle tensor, const void* data, int ndim, const int64_t* sizes,
                 const int64_t* strides, ElemType type) {
  int64_t extent = 1;  // elements spanned; 0 for an empty tensor
  for (int d = 0; d < ndim; ++d) extent += (sizes[d] - 1) * strides[d];
  for (int d = 0; d < ndim; ++d) extent = sizes[d] == 0 ? 0 : extent;
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t bytes = static_cast<uintptr_t>(extent) * (type == ElemType::kInt64 ? 8 : 4);
  ReadTensor r{tensor, begin, begin + bytes, ndim, {0, 0}, {0, 0}, keep.sample, keep.field};
  for (int d = 0; d < ndim; ++d) {
    r.sizes[d] = sizes[d];
    r.strides[d] = strides[d];
  }
  keep.tensors.push_back(r);
}

// A tensor with elements whose data pointer is null: its storage was freed (untyped_storage().resize_(0)).
std::string freed_storage_problem() {
  return "has no storage (freed, e.g. by untyped_storage().resize_(0)), yet has elements: it was resized or given "
         "other storage while the batch was read, or before";
}

// Shared checks of check_int_tensor() in fastcollate/common/checks.py, same order and messages.
// Returns the error, or "" with dims/type/data/sizes/strides filled.
std::string inspect_int_tensor(py::handle value_in, int ndim, ElemType& type, const void*& data, int64_t* sizes,
                               int64_t* strides, Keep& keep) {
  const TorchObjects& torch = TorchObjects::get();
  if (!PyObject_TypeCheck(value_in.ptr(), reinterpret_cast<PyTypeObject*>(torch.tensor_type.ptr()))) {
    return "expected a torch.Tensor, got " + type_name(value_in);
  }
  py::object value = plain_tensor(value_in, keep);
  if (!value) return wrapper_subclass_problem(value_in);
  py::object layout = tensor_attr(value, torch.layout_get);
  if (!layout.is(torch.strided) || !(tensor_attr(value, torch.is_cpu_get).ptr() == Py_True)) {
    return "expected a dense CPU tensor, got " + std::string(py::str(layout)) + " on " +
           std::string(py::str(value.attr(torch.device)));
  }
  py::object dtype = tensor_attr(value, torch.dtype_get);
  if (dtype.is(torch.int64))
    type = ElemType::kInt64;
  else if (dtype.is(torch.int32))
    type = ElemType::kInt32;
  else
    return "expected dtype torch.int32 or torch.int64, got " + std::string(py::str(dtype));
  py::object shape = tensor_attr(value, torch.shape_get);
  if (PyTuple_GET_SIZE(shape.ptr()) != ndim) {
    // A plain tuple, as Python's tuple(value.shape) prints it: "(1, 177)", not "torch.Size([1, 177])".
    auto plain_tuple = py::reinterpret_steal<py::object>(PySequence_Tuple(shape.ptr()));
    return "expected a " + std::to_string(ndim) + "-D tensor, got shape " + std::string(py::str(plain_tuple));
  }
  for (int d = 0; d < ndim; ++d) sizes[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape.ptr(), d));
  if (tensor_call(value, torch.is_contiguous_method).ptr() == Py_True) {
    // Row-major strides (a size-1 dimension's stride is never used to address an element): no stride tuple
    // to build and collect, the common case of every feature's tensors.
    int64_t step = 1;
    for (int d = ndim; d-- > 0;) {
      strides[d] = step;
      step *= sizes[d] > 1 ? sizes[d] : 1;
    }
  } else {
    py::object stride = tensor_call(value, torch.stride_method);
    for (int d = 0; d < ndim; ++d) strides[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(stride.ptr(), d));
  }
  std::string repeating = check_not_repeating(value, ndim, sizes, strides);
  if (!repeating.empty()) return repeating;
  bool empty = false;
  for (int d = 0; d < ndim; ++d) empty = empty || sizes[d] == 0;
  // Before anything reads the elements (resolve_neg below is torch reading them): a null data pointer is freed
  // storage, which torch would read at address 0.
  data = reinterpret_cast<const void*>(PyLong_AsUnsignedLongLong(tensor_call(value, torch.data_ptr_method).ptr()));
  if (PyErr_Occurred()) throw py::error_already_set();
  if (data == nullptr && !empty) return freed_storage_problem();
  if (tensor_call(value, torch.is_neg_method).ptr() == Py_True) {
    // A negative view (torch._neg_view) stores -x and means x: read a materialised copy, as torch ops would.
    value = value.attr(torch.resolve_neg)();
    py::object copy_stride = tensor_call(value, torch.stride_method);
    for (int d = 0; d < ndim; ++d) strides[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(copy_stride.ptr(), d));
    data = reinterpret_cast<const void*>(PyLong_AsUnsignedLongLong(tensor_call(value, torch.data_ptr_method).ptr()));
    if (PyErr_Occurred()) throw py::error_already_set();
  }
  record_read(keep, value, data, ndim, sizes, strides, type);
  keep.objects.push_back(std::move(value));
  return "";
}

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

ElemType arg_type(const py::object& dtype, const TorchObjects& t) {
  if (dtype.is(t.int64)) return ElemType::kInt64;
  if (dtype.is(t.int32)) return ElemType::kInt32;
  if (dtype.is(t.int16)) return ElemType::kInt16;
  if (dtype.is(t.bool_)) return ElemType::kBool;
  return ElemType::kOther;
}

// CPU (device < 0) or that CUDA device.
bool on_device(py::handle value, int device, const TorchObjects& t) {
  if (device < 0) return value.attr(t.is_cpu).cast<bool>();
  py::object d = value.attr(t.device);
  py::object index = d.attr(t.index);
  return d.attr(t.type).cast<std::string>() == "cuda" && !index.is_none() && index.cast<int>() == device;
}

}  // namespace

void init_reader() {
  if (TorchObjects::instance != nullptr) return;
  py::module_ torch = py::module_::import("torch");
  auto* o = new TorchObjects();
  o->tensor_type = torch.attr("Tensor");
  o->bool_ = torch.attr("bool");
  o->int16 = torch.attr("int16");
  o->int32 = torch.attr("int32");
  o->int64 = torch.attr("int64");
  o->strided = torch.attr("strided");
  o->real_type = py::module_::import("numbers").attr("Real");
  py::object static_attr = py::module_::import("inspect").attr("getattr_static");
  o->layout_get = static_attr(o->tensor_type, o->layout);
  o->is_cpu_get = static_attr(o->tensor_type, o->is_cpu);
  o->dtype_get = static_attr(o->tensor_type, o->dtype);
  o->shape_get = static_attr(o->tensor_type, o->shape);
  o->stride_method = static_attr(o->tensor_type, o->stride);
  o->data_ptr_method = static_attr(o->tensor_type, o->data_ptr);
  o->is_neg_method = static_attr(o->tensor_type, o->is_neg);
  o->is_contiguous_method = static_attr(o->tensor_type, o->is_contiguous);
  o->as_subclass_method = static_attr(o->tensor_type, "as_subclass");
  TorchObjects::instance = o;
}

std::string type_name(py::handle value) { return py::str(py::type::handle_of(value).attr("__name__")); }

bool is_torch_tensor(py::handle value) {
  return PyObject_TypeCheck(value.ptr(), reinterpret_cast<PyTypeObject*>(TorchObjects::get().tensor_type.ptr()));
}

void check_unmoved(const Keep& keep) {
  if (!keep.ran_python) return;
  const TorchObjects& torch = TorchObjects::get();
  for (const ReadTensor& r : keep.tensors) {
    const auto data = tensor_call(r.tensor, torch.data_ptr_method).cast<uintptr_t>();
    py::object shape = tensor_attr(r.tensor, torch.shape_get);
    py::object stride = tensor_call(r.tensor, torch.stride_method);
    // An empty tensor read nothing: only its shape matters (given storage and elements, it must be read again).
    const bool read_elements = r.end > r.begin;
    bool same = (!read_elements || data == r.begin) && PyTuple_GET_SIZE(shape.ptr()) == r.ndim;
    for (int d = 0; same && d < r.ndim; ++d) {
      // A size-1 dimension's stride addresses nothing (a contiguous tensor's was read as row-major).
      same =
          PyLong_AsLongLong(PyTuple_GET_ITEM(shape.ptr(), d)) == r.sizes[d] &&
          (!read_elements || r.sizes[d] <= 1 || PyLong_AsLongLong(PyTuple_GET_ITEM(stride.ptr(), d)) == r.strides[d]);
    }
    if (same && read_elements) {
      py::object storage = r.tensor.attr(torch.untyped_storage)();
      const auto first = storage.attr(torch.data_ptr)().cast<uintptr_t>();
      const auto bytes = storage.attr(torch.nbytes)().cast<uintptr_t>();
      same = r.begin >= first && r.end - first <= bytes;
    }
    if (!same) {
      const std::string where = r.sample >= 0 ? "sample " + std::to_string(r.sample) + ": " : "";
      throw std::invalid_argument(
          where + r.field +
          ": was resized or given other storage while the batch was read, by Python code the reader ran (an "
          "__index__, a property, a Mapping's get, a tensor subclass); collate tensors nothing changes during "
          "the call");
    }
  }
}

py::tuple stored_items(py::handle sequence) {
  PyObject* seq = sequence.ptr();
  PyObject* items = PyList_Check(seq)    ? PyList_AsTuple(seq)
                    : PyTuple_Check(seq) ? PyTuple_GetSlice(seq, 0, PyTuple_GET_SIZE(seq))
                                         : PySequence_Tuple(seq);
  if (items == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::tuple>(items);
}

IdsView read_ids_view(py::handle value, Keep& keep) {
  IdsView v;
  v.present = !value.is_none();
  int64_t size = 0, stride = 1;
  v.error = inspect_int_tensor(value, 1, v.type, v.data, &size, &stride, keep);
  v.size = size;
  v.stride = stride;
  return v;
}

CodesView read_codes_view(py::handle value, Keep& keep) {
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
  if (as_double == -1.0 && PyErr_Occurred()) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError)) throw py::error_already_set();
    PyErr_Clear();
    error = "is too large to convert to a float";
    return true;
  }
  reward = static_cast<float>(as_double);
  return true;
}

std::string index_failure() {
  if (!PyErr_ExceptionMatches(PyExc_Exception)) throw py::error_already_set();  // KeyboardInterrupt, SystemExit
  py::error_already_set failed;  // takes the pending exception (clears it)
  return "its __index__ raised " + type_name(failed.value()) + ": " + std::string(py::str(failed.value()));
}

int64_t read_start_index(py::handle value, const std::string& unread, std::string& error) {
  if (value.is_none()) return 0;
  // operator.index() semantics (Python and numpy ints), bools excluded, as check_start_index() in
  // fastcollate/common/checks.py: an __index__ that raises TypeError (a float tensor) means "not an int", any
  // other exception is named after it; both whether or not the collator reads start_index.
  std::string index_error;
  if (PyIndex_Check(value.ptr()) && !PyBool_Check(value.ptr())) {
    auto as_int = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (as_int) {
      if (!unread.empty()) {
        error = "is " + std::string(py::str(as_int)) + ", but " + unread;
        return 0;
      }
      // Values past int64 clip (no turn index reaches them either way).
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(as_int.ptr(), &overflow);
      if (overflow != 0) return overflow > 0 ? INT64_MAX : INT64_MIN;
      if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
      return v;
    }
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
    } else {
      index_error = " (" + index_failure() + ")";
    }
  }
  error = "expected an int or None, got " + type_name(value) + index_error;
  return 0;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

TensorArg read_tensor_arg(py::handle arg_value, const std::string& name, int min_dim, int max_dim, Keep& keep,
                          int device) {
  const TorchObjects& t = TorchObjects::get();
  if (!is_torch_tensor(arg_value)) fail(name, "expected a torch.Tensor, got " + type_name(arg_value));
  const py::object value = plain_tensor(arg_value, keep);  // what a subclass's overrides say is never read
  if (!value) fail(name, wrapper_subclass_problem(arg_value));
  py::object layout = value.attr(t.layout);
  if (!layout.is(t.strided) || !on_device(value, device, t)) {
    fail(name,
         device < 0 ? "expected a dense CPU tensor" : "expected a dense tensor on cuda:" + std::to_string(device));
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
  bool empty = false;
  for (int d = 0; d < arg.ndim; ++d) empty = empty || arg.size[d] == 0;
  if (arg.data == nullptr && !empty) fail(name, freed_storage_problem());
  // The public ops (fastcollate/ops) hand over aligned, materialised tensors; a direct caller must too: an
  // unaligned typed load is undefined behaviour, and a negative view's memory holds the negated values.
  const auto element_size = value.attr("element_size")().cast<uintptr_t>();
  if (element_size > 1 && reinterpret_cast<uintptr_t>(arg.data) % element_size != 0) {
    fail(name, "expected a tensor whose data is aligned to its element size");
  }
  if (value.attr("is_neg")().cast<bool>()) fail(name, "expected a tensor without the negative bit (resolve_neg())");
  keep.objects.push_back(value);
  return arg;
}

void require_shape(const TensorArg& t, const std::string& name, const std::vector<int64_t>& shape) {
  const std::vector<int64_t> got(t.size, t.size + t.ndim);
  if (got != shape) fail(name, "expected shape " + shape_string(shape) + ", got " + shape_string(got));
}

std::vector<int64_t> read_int_values(py::handle value, const std::string& name, Keep& keep) {
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

TensorArg read_output(py::handle value, const std::string& name, ElemType type, const std::string& dtype_name,
                      const std::vector<int64_t>& shape, Keep& keep, int device) {
  const int ndim = static_cast<int>(shape.size());
  const TensorArg t = read_tensor_arg(value, name, ndim, ndim, keep, device);
  if (t.type != type) fail(name, "expected dtype " + dtype_name + ", got " + t.dtype_name);
  require_shape(t, name, shape);
  return t;
}

TensorArg read_flat_int64(py::handle value, const std::string& name, int64_t n, Keep& keep, int device) {
  const TensorArg t = read_output(value, name, ElemType::kInt64, "torch.int64", {n}, keep, device);
  if (n > 1 && t.stride[0] != 1) fail(name, "expected a contiguous tensor");
  return t;
}

int32_t* read_status(py::handle value, Keep& keep, int device) {
  return static_cast<int32_t*>(read_output(value, "status", ElemType::kInt32, "torch.int32", {1}, keep, device).data);
}

}  // namespace fastcollate
