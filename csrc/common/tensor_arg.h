// A tensor argument as the bindings read it (csrc/python/reader.h): data pointer, element type, up to 3
// sizes and strides in elements (not bytes), and the dtype's name for messages. Plain C++: the capability
// entry points take it without knowing Python.
#pragma once

#include <cstdint>
#include <string>

#include "common/elem_type.h"

namespace fastcollate {

struct TensorArg {
  void* data = nullptr;
  ElemType type = ElemType::kOther;
  int ndim = 0;
  int64_t size[3] = {0, 0, 0};
  int64_t stride[3] = {0, 0, 0};
  std::string dtype_name;  // str(tensor.dtype), for messages
};

}  // namespace fastcollate
