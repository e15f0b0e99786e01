// The delay ops' tensor arguments as the kernels see them: the op's integer type, values that must fit it, and
// the logical views of "BKT" and "BTK" tensors (padded: B, K, T; ragged: K, N). Plain C++: errors are
// std::invalid_argument "{name}: ..." (raised as ValueError).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor_arg.h"
#include "delay/delay_pattern.h"

namespace fastcollate {

// The op's integer type, or ValueError "{name}: expected dtype torch.int16, torch.int32 or torch.int64, ...".
ElemType code_type(const TensorArg& t, const std::string& name);

// ValueError "{name}: {value} does not fit {dtype}" unless value fits the op's type.
void require_fits(int64_t value, ElemType type, const std::string& name, const std::string& dtype_name);

// A (K, T) / (T, K) or (B, K, T) / (B, T, K) tensor as logical (B, K, T): "BTK" only swaps strides.
Strided<3> padded_view(const TensorArg& t, bool btk);
std::vector<int64_t> padded_shape(int ndim, int64_t batch, int64_t codebooks, int64_t width, bool btk);

// A ragged (K, N) / (N, K) tensor as logical (K, N).
Strided<2> ragged_view(const TensorArg& t, bool btk);
std::vector<int64_t> ragged_shape(int64_t codebooks, int64_t n, bool btk);

}  // namespace fastcollate
