// Arguments of the token-tensor ops shared by their CPU entry points (register_ops.cpp) and the kernel
// launches (register_kernels.cpp): dtypes, outputs of a planned shape, and the logical views of "BKT" and
// "BTK" tensors. `device`: -1 for CPU tensors, else the CUDA device the tensors must be on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delay/delay_pattern.h"
#include "python/op_tensors.h"

namespace fastcollate {

using Keep = std::vector<py::object>;

// The op's integer type, or ValueError "{name}: expected dtype torch.int16, torch.int32 or torch.int64, ...".
ElemType code_type(const TensorArg& t, const std::string& name);

// An output: a tensor of the input's dtype and exactly the planned shape.
TensorArg read_output(py::handle value, const std::string& name, ElemType type, const std::string& dtype_name,
                      const std::vector<int64_t>& shape, Keep& keep, int device = -1);

// A 1-D int64 tensor of n entries and unit stride on the device (offsets the kernels read or write).
TensorArg read_flat_int64(py::handle value, const std::string& name, int64_t n, Keep& keep, int device);

// The kernels' int32 (1,) status on the device.
int32_t* read_status(py::handle value, Keep& keep, int device);

// ValueError "{name}: {value} does not fit {dtype}" unless value fits the op's type.
void require_fits(int64_t value, ElemType type, const std::string& name, const std::string& dtype_name);

// A (K, T) / (T, K) or (B, K, T) / (B, T, K) tensor as logical (B, K, T): "BTK" only swaps strides.
Strided<3> padded_view(const TensorArg& t, bool btk);
std::vector<int64_t> padded_shape(int ndim, int64_t batch, int64_t codebooks, int64_t width, bool btk);

// A ragged (K, N) / (N, K) tensor as logical (K, N).
Strided<2> ragged_view(const TensorArg& t, bool btk);
std::vector<int64_t> ragged_shape(int64_t codebooks, int64_t n, bool btk);

// The codes of an apply: an int16/int32/int64 tensor of min_dim to max_dim dimensions that BOS and PAD fit.
TensorArg read_apply_codes(py::handle codes, int min_dim, int max_dim, int64_t bos, int64_t pad, ElemType& type,
                           Keep& keep, int device = -1);

}  // namespace fastcollate
