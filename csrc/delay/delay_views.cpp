#include "delay/delay_views.h"

#include <limits>
#include <stdexcept>

namespace fastcollate {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw std::invalid_argument(name + ": " + problem);
}

}  // namespace

ElemType code_type(const TensorArg& t, const std::string& name) {
  switch (t.type) {
    case ElemType::kInt16:
      return ElemType::kInt16;
    case ElemType::kInt32:
      return ElemType::kInt32;
    case ElemType::kInt64:
      return ElemType::kInt64;
    default:
      fail(name, "expected dtype torch.int16, torch.int32 or torch.int64, got " + t.dtype_name);
  }
}

void require_fits(int64_t value, ElemType type, const std::string& name, const std::string& dtype_name) {
  const int64_t lo = type == ElemType::kInt16   ? std::numeric_limits<int16_t>::min()
                     : type == ElemType::kInt32 ? std::numeric_limits<int32_t>::min()
                                                : std::numeric_limits<int64_t>::min();
  const int64_t hi = type == ElemType::kInt16   ? std::numeric_limits<int16_t>::max()
                     : type == ElemType::kInt32 ? std::numeric_limits<int32_t>::max()
                                                : std::numeric_limits<int64_t>::max();
  if (value < lo || value > hi) fail(name, std::to_string(value) + " does not fit " + dtype_name);
}

Strided<3> padded_view(const TensorArg& t, bool btk) {
  Strided<3> v;
  v.data = t.data;
  const int b = t.ndim == 3 ? 1 : 0;
  v.size[0] = b ? t.size[0] : 1;
  v.stride[0] = b ? t.stride[0] : 0;
  const int k_dim = b + (btk ? 1 : 0), t_dim = b + (btk ? 0 : 1);
  v.size[1] = t.size[k_dim];
  v.stride[1] = t.stride[k_dim];
  v.size[2] = t.size[t_dim];
  v.stride[2] = t.stride[t_dim];
  return v;
}

std::vector<int64_t> padded_shape(int ndim, int64_t batch, int64_t codebooks, int64_t width, bool btk) {
  std::vector<int64_t> shape = btk ? std::vector<int64_t>{width, codebooks} : std::vector<int64_t>{codebooks, width};
  if (ndim == 3) shape.insert(shape.begin(), batch);
  return shape;
}

Strided<2> ragged_view(const TensorArg& t, bool btk) {
  Strided<2> v;
  v.data = t.data;
  const int k_dim = btk ? 1 : 0;
  v.size[0] = t.size[k_dim];
  v.stride[0] = t.stride[k_dim];
  v.size[1] = t.size[1 - k_dim];
  v.stride[1] = t.stride[1 - k_dim];
  return v;
}

std::vector<int64_t> ragged_shape(int64_t codebooks, int64_t n, bool btk) {
  return btk ? std::vector<int64_t>{n, codebooks} : std::vector<int64_t>{codebooks, n};
}

}  // namespace fastcollate
