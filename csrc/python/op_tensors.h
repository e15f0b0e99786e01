// Tensor arguments of the token-tensor ops (csrc/delay, csrc/rolespan), read through the Python API only (no libtorch link):
// dtype, shape, strides and data_ptr() of a dense CPU tensor of up to 3 dimensions. The Python layer
// (fastcollate/ops) checks every argument first with friendlier messages; these checks keep a direct call
// of the compiled functions from ever reading or writing out of bounds.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor_arg.h"

namespace fastcollate {

namespace py = pybind11;

// Raises ValueError "{name}: ..." unless `value` is a dense tensor with ndim in [min_dim, max_dim] on the CPU
// (device -1) or on CUDA device `device` (the CUDA kernels' tensors; data is then a device address).
// The tensor is kept alive in `keep` (the fill runs without the GIL).
TensorArg read_tensor_arg(py::handle value, const std::string& name, int min_dim, int max_dim,
                          std::vector<py::object>& keep, int device = -1);

// "(2, 3, 4)"
std::string shape_string(const std::vector<int64_t>& shape);

// Raises ValueError "{name}: expected shape ..., got ..." unless the tensor has exactly this shape.
void require_shape(const TensorArg& t, const std::string& name, const std::vector<int64_t>& shape);

// A 1-D int32/int64 tensor's values, or ValueError naming it.
std::vector<int64_t> read_int_values(py::handle value, const std::string& name, std::vector<py::object>& keep);

}  // namespace fastcollate
