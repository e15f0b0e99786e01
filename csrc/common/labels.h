// The label value that loss functions skip (PyTorch CrossEntropyLoss ignore_index, HF's -100).
#pragma once

#include <cstdint>

namespace fastcollate {

constexpr int64_t kIgnoreIndex = -100;

}  // namespace fastcollate
