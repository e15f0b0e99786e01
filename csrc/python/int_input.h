// Integer inputs in every form users pass, read in one native pass with no per-element Python:
//   * torch tensors (int32/int64): zero-copy views (tensor_view.h);
//   * buffer-protocol arrays (numpy): int32/int64 in native byte order are zero-copy views; every other
//     integer dtype and byte order is converted once to int64;
//   * Python sequences (list, tuple) of ints, or of such sequences for 2-D fields: converted once to int64,
//     each value range-checked (an int outside int64 names its position).
// fastcollate/common/int_input.py is the Python twin: same accepted forms, same messages. An unusable value
// becomes a view carrying its error, raised only if the field is read (in the reference's order).
#pragma once

#include <pybind11/pybind11.h>

#include <deque>
#include <memory>
#include <vector>

#include "common/views.h"
#include "python/tensor_view.h"

namespace fastcollate {

// Everything the views of one call point into, alive until the call returns (the GIL is released while the
// kernels read them).
struct InputKeep {
  KeepAlive objects;                                     // tensors and arrays
  std::vector<std::unique_ptr<py::buffer_info>> exports;  // exported buffers stay exported (not resizable)
  std::deque<std::vector<int64_t>> converted;             // stable addresses: deque never moves elements

  int64_t* stage(size_t n) { return converted.emplace_back(n).data(); }
};

IdsView read_ids(py::handle value, InputKeep& keep);      // 1-D
CodesView read_codes(py::handle value, InputKeep& keep);  // 2-D

}  // namespace fastcollate
