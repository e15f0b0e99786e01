// Non-owning views of caller tensors: a data pointer, sizes and strides in elements (not bytes), and the
// element type. Token ids arrive as int32 or int64; every output is int64.
#pragma once

#include <cstdint>
#include <string>

#include "common/elem_type.h"
#include "common/host_device.h"

namespace fastcollate {

struct IdsView {
  const void* data = nullptr;
  int64_t size = 0;
  int64_t stride = 1;
  ElemType type = ElemType::kInt64;
  bool present = false;  // the field was given (not None)
  std::string error;     // why the field is unusable; raised only if the field is read

  FC_HD int64_t operator[](int64_t i) const {
    return type == ElemType::kInt64 ? static_cast<const int64_t*>(data)[i * stride]
                                    : static_cast<int64_t>(static_cast<const int32_t*>(data)[i * stride]);
  }
};

struct CodesView {
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
  ElemType type = ElemType::kInt64;
  bool present = false;
  std::string error;

  FC_HD int64_t at(int64_t r, int64_t c) const {
    const int64_t i = r * row_stride + c * col_stride;
    return type == ElemType::kInt64 ? static_cast<const int64_t*>(data)[i]
                                    : static_cast<int64_t>(static_cast<const int32_t*>(data)[i]);
  }
};

// Calls f(typed_pointer) with the view's element type, so hot loops are compiled once per type instead of
// branching on the type for every element.
template <typename F>
decltype(auto) visit_ids(const IdsView& v, F&& f) {
  if (v.type == ElemType::kInt64) return f(static_cast<const int64_t*>(v.data));
  return f(static_cast<const int32_t*>(v.data));
}

}  // namespace fastcollate
