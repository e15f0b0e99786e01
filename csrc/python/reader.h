// The one reader of Python arguments: torch tensors read through the Python API only (no libtorch link: type,
// layout, device, dtype, shape, strides, data_ptr()), numpy buffers and Python lists of ints, and the scalar
// fields of a sample. Everything a call reads stays alive in one Keep until the call returns (the fills and
// kernels run without the GIL).
//
// Two forms of tensor reading, for the two kinds of caller:
//   * collator fields (read_ids, read_codes, ...): an unusable value becomes a view carrying its error, raised
//     only if the field is read, in the same order and with the same messages as the Python reference
//     (fastcollate/common/checks.py, fastcollate/common/int_input.py). Every integer form users pass is read
//     in one pass with no per-element Python: torch tensors (int32/int64) and buffer-protocol arrays (numpy)
//     of int32/int64 in native byte order are zero-copy views; every other integer dtype and byte order, and
//     Python sequences (list, tuple) of ints (or of such sequences for 2-D fields), are converted once to
//     int64, each value range-checked (an int outside int64 names its position);
//     a list is read as it was passed: an item's __index__ runs on a snapshot of the rows not yet read, so it
//     cannot resize or free what is being read (reader_forms.cpp, convert_rows); a list or tuple subclass is
//     read by its stored items (its own __len__, __iter__ or __getitem__ is never called);
//   * a tensor subclass is read as the plain torch.Tensor over the same storage (TensorBase.as_subclass, C code):
//     its metadata is the C-level tensor's, never an overridden shape, stride or data_ptr (the twin does the
//     same: fastcollate/common/checks.py, plain_tensor). A wrapper subclass with no storage of its own
//     (FakeTensor, DTensor, ...) has nothing to read and is an error;
//   * user Python code the reader runs (an __index__, a property, a Mapping's get, a reward's __float__) may
//     resize or re-point a tensor read before it: check_unmoved() then finds it, before any fill;
//   * op arguments (read_tensor_arg, read_output, ...): the Python layer (fastcollate/ops) checks every argument
//     first with friendlier messages; these checks keep a direct call of the compiled functions from ever
//     reading or writing out of bounds, raising ValueError "{name}: ..." at once.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/tensor_arg.h"
#include "common/views.h"

namespace fastcollate {

namespace py = pybind11;

// A torch tensor a view reads in place: the bytes [begin, end) its elements span, and where it was read.
struct ReadTensor {
  py::handle tensor;  // owned by Keep::objects
  uintptr_t begin, end;
  int ndim;
  int64_t sizes[2], strides[2];  // as read (strides: row-major for a contiguous tensor)
  int64_t sample;
  const char* field;
};

// Everything the views of one call point into, alive until the call returns.
struct Keep {
  std::vector<py::object> objects;                        // tensors and arrays
  std::vector<std::unique_ptr<py::buffer_info>> exports;  // exported buffers stay exported (not resizable)
  std::deque<std::vector<int64_t>> converted;             // stable addresses: deque never moves elements
  std::vector<ReadTensor> tensors;                        // read in place (collator fields)
  bool ran_python = false;  // the reader ran (or may have run) user Python code: see check_unmoved()
  int64_t sample = -1;      // what is being read, for check_unmoved()'s message
  const char* field = "";

  int64_t* stage(size_t n) { return converted.emplace_back(n).data(); }
  // A scalar read through Python's number protocols (start_index, reward): anything but None, an exact int or an
  // exact float runs user code (__index__, __float__).
  void note_scalar(py::handle value) {
    if (!value.is_none() && !PyLong_CheckExact(value.ptr()) && !PyFloat_CheckExact(value.ptr())) ran_python = true;
  }
  // Names what the reads that follow are for.
  void reading(int64_t i, const char* name) {
    sample = i;
    field = name;
  }
};

// Call once every field of a call is read, GIL held, before any plan or fill. Where user Python code ran while
// reading, a tensor read before it may have been resized (in place or not), set_ to other storage or had its
// storage shrunk (its old memory freed): raises ValueError "sample {i}: {field}: ..." for the first tensor
// whose data, shape or strides are not what was read, or whose storage no longer holds it, so no view reads
// memory its tensor no longer holds nor values the twin would not read. Costs nothing when no such code ran.
void check_unmoved(const Keep& keep);

// The items a list or tuple stores (a new tuple), read at the C level: a subclass's own __len__, __iter__ or
// __getitem__ is never called, as in the twin (fastcollate/common/int_input.py, stored_items). Any other
// sequence: tuple(sequence).
py::tuple stored_items(py::handle sequence);

// Looks up the torch objects the reader compares against; called once while the module is imported (never on a
// first call: see reader.cpp).
void init_reader();

bool is_torch_tensor(py::handle value);
std::string type_name(py::handle value);  // type(value).__name__

// ---- Collator fields: errors travel in the view.

IdsView read_ids(py::handle value, Keep& keep);      // 1-D
CodesView read_codes(py::handle value, Keep& keep);  // 2-D
// The same for torch tensors only (zero-copy views; read_ids and read_codes also take buffers and lists).
IdsView read_ids_view(py::handle value, Keep& keep);
CodesView read_codes_view(py::handle value, Keep& keep);

// A reward: None, a real number, or a one-element real tensor. Returns false for None.
bool read_reward(py::handle value, float& reward, std::string& error);

// A start_index: None (0: every turn) or an int; otherwise the error message. `unread` non-empty: the
// collator does not read start_index, so a given one is an error ("is {value}, but {unread}").
int64_t read_start_index(py::handle value, const std::string& unread, std::string& error);

// After an __index__ failed with a pending exception other than TypeError: "its __index__ raised {type}: {message}"
// (the exception cleared), appended to the field's "expected an int" error as index_failure() in
// fastcollate/common/checks.py does. An exception that is no Exception (KeyboardInterrupt) propagates.
std::string index_failure();

// ---- Op arguments: errors raise ValueError "{name}: ..." at once.

// Raises ValueError "{name}: ..." unless `value` is a dense tensor with ndim in [min_dim, max_dim] on the CPU
// (device -1) or on CUDA device `device` (the CUDA kernels' tensors; data is then a device address).
// The tensor is kept alive in `keep` (the fill runs without the GIL).
TensorArg read_tensor_arg(py::handle value, const std::string& name, int min_dim, int max_dim, Keep& keep,
                          int device = -1);

// "(2, 3, 4)"
std::string shape_string(const std::vector<int64_t>& shape);

// Raises ValueError "{name}: expected shape ..., got ..." unless the tensor has exactly this shape.
void require_shape(const TensorArg& t, const std::string& name, const std::vector<int64_t>& shape);

// A 1-D int32/int64 tensor's values, or ValueError naming it.
std::vector<int64_t> read_int_values(py::handle value, const std::string& name, Keep& keep);

// An output: a tensor of the input's dtype and exactly the planned shape.
TensorArg read_output(py::handle value, const std::string& name, ElemType type, const std::string& dtype_name,
                      const std::vector<int64_t>& shape, Keep& keep, int device = -1);

// A 1-D int64 tensor of n entries and unit stride on the device (offsets the kernels read or write).
TensorArg read_flat_int64(py::handle value, const std::string& name, int64_t n, Keep& keep, int device);

// The kernels' int32 (1,) status on the device.
int32_t* read_status(py::handle value, Keep& keep, int device);

}  // namespace fastcollate
