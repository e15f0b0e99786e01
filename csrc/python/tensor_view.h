// Reading torch tensors through the Python API only (no libtorch link): type, layout, device, dtype, shape,
// strides and data_ptr(). A field that cannot be used becomes a view carrying the error message; the kernel
// raises it only if it reads that field, in the same order as the Python reference.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "common/views.h"

namespace fastcollate {

namespace py = pybind11;

// Keeps every tensor read during a call alive while the GIL is released.
using KeepAlive = std::vector<py::object>;

bool is_torch_tensor(py::handle value);
std::string type_name(py::handle value);  // type(value).__name__

IdsView read_ids_view(py::handle value, KeepAlive& keep);
CodesView read_codes_view(py::handle value, KeepAlive& keep);

// A reward: None, a real number, or a one-element real tensor. Returns false for None.
bool read_reward(py::handle value, float& reward, std::string& error);

// A start_index: None (0: every turn) or an int; otherwise the error message. `unread` non-empty: the
// collator does not read start_index, so a given one is an error ("is {value}, but {unread}").
int64_t read_start_index(py::handle value, const std::string& unread, std::string& error);

}  // namespace fastcollate
