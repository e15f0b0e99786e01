// Output sizes that cannot overflow. Every product and sum that sizes an output goes through these helpers
// (128-bit arithmetic, so even the rejected value is printed exactly), and an output tensor larger than a
// 64-bit process can address is a std::invalid_argument naming what asked for it. The Python twin is
// fastcollate/common/sizes.py (same rule, same messages).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fastcollate {

// 2**47 bytes (128 TiB): the user address space of a 64-bit process (x86-64, AArch64 with 4-level paging).
constexpr int64_t kMaxTensorBytes = int64_t{1} << 47;

using u128 = unsigned __int128;

inline std::string to_string(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

// ceil(longest / multiple) * multiple, the padded row width; `what` names the parameter in the error.
// Throws unless rows x width int64 values fit in kMaxTensorBytes.
inline int64_t padded_width(int64_t rows, int64_t longest, int64_t multiple, const std::string& what) {
  const u128 m = static_cast<u128>(multiple);
  const u128 width = (static_cast<u128>(longest) + m - 1) / m * m;
  if (width * static_cast<u128>(rows) * 8 > static_cast<u128>(kMaxTensorBytes)) {
    throw std::invalid_argument(what + ": padding " + std::to_string(rows) + " rows of up to " +
                                std::to_string(longest) + " tokens to a multiple of " + std::to_string(multiple) +
                                " needs " + std::to_string(rows) + " x " + to_string(width) +
                                " int64 values, more than a process can address");
  }
  return static_cast<int64_t>(width);
}

// Throws message() unless rows x cols values of elem_bytes each fit in kMaxTensorBytes. (The message is a
// callable so that the usual, valid case builds no string.)
template <typename Message>
void check_tensor_size(int64_t rows, int64_t cols, int64_t elem_bytes, Message&& message) {
  if (static_cast<u128>(rows) * static_cast<u128>(cols) * static_cast<u128>(elem_bytes) >
      static_cast<u128>(kMaxTensorBytes)) {
    throw std::invalid_argument(message());
  }
}

// a + b for non-negative sizes; throws message() past kMaxTensorBytes / 8 elements (no output that large
// could be allocated, and the sum stays far from overflow).
template <typename Message>
int64_t checked_add(int64_t a, int64_t b, Message&& message) {
  const u128 sum = static_cast<u128>(a) + static_cast<u128>(b);
  if (a < 0 || b < 0 || sum > static_cast<u128>(kMaxTensorBytes / 8)) throw std::invalid_argument(message());
  return static_cast<int64_t>(sum);
}

}  // namespace fastcollate
