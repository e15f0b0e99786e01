// Output sizes that cannot overflow. Every product and sum that sizes an output goes through these helpers
// (128-bit arithmetic, so even the rejected value is printed exactly), and an output tensor larger than a
// 64-bit process can address is a std::invalid_argument naming what asked for it. The Python twin is
// fastcollate/common/sizes.py (same rule, same messages).
#pragma once

#include <unistd.h>

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

// The machine's physical memory in bytes (sysconf, as os.sysconf in the twin), or 0 where it is unknown (then
// not checked). An output larger than it cannot be allocated (or only into swap, useless for a batch): it is
// refused before anything is allocated, instead of failing in an allocator with a message naming nothing.
// Read once (no Python runs under this static's init guard).
inline u128 machine_memory() {
  static const u128 bytes = [] {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) return static_cast<u128>(pages) * static_cast<u128>(page);
#endif
    return u128{0};
  }();
  return bytes;
}

// "{what}: padding {rows} rows of up to {longest} tokens to a multiple of {multiple} needs {rows} x {width}
// int64 values, more than {limit}".
inline std::string padding_message(int64_t rows, int64_t longest, int64_t multiple, const std::string& what,
                                   const std::string& limit) {
  const u128 m = static_cast<u128>(multiple);
  const u128 width = (static_cast<u128>(longest) + m - 1) / m * m;
  return what + ": padding " + std::to_string(rows) + " rows of up to " + std::to_string(longest) +
         " tokens to a multiple of " + std::to_string(multiple) + " needs " + std::to_string(rows) + " x " +
         to_string(width) + " int64 values, more than " + limit;
}

// ceil(longest / multiple) * multiple, the padded row width; `what` names the parameter in the error.
// Throws unless rows x width int64 values fit in kMaxTensorBytes.
inline int64_t padded_width(int64_t rows, int64_t longest, int64_t multiple, const std::string& what) {
  const u128 m = static_cast<u128>(multiple);
  const u128 width = (static_cast<u128>(longest) + m - 1) / m * m;
  if (width * static_cast<u128>(rows) * 8 > static_cast<u128>(kMaxTensorBytes)) {
    throw std::invalid_argument(padding_message(rows, longest, multiple, what, "a process can address"));
  }
  return static_cast<int64_t>(width);
}

// std::runtime_error "{what} needs {bytes} bytes, more than this machine's memory ({memory} bytes)" when one
// output of `bytes` is larger than the machine's memory (the twin's common/sizes.check_fits_memory).
inline void check_fits_memory(u128 bytes, const std::string& what) {
  const u128 memory = machine_memory();
  if (memory != 0 && bytes > memory) {
    throw std::runtime_error(what + " needs " + to_string(bytes) + " bytes, more than this machine's memory (" +
                             to_string(memory) + " bytes)");
  }
}

// After every other check of a batch, before its outputs are allocated: std::runtime_error (RuntimeError, the
// class of torch's failed allocations) unless the padded rows x width int64 values fit in the machine's memory.
// Same arguments and message as padded_width().
inline void check_padded_memory(int64_t rows, int64_t longest, int64_t multiple, const std::string& what) {
  const u128 m = static_cast<u128>(multiple);
  const u128 bytes = (static_cast<u128>(longest) + m - 1) / m * m * static_cast<u128>(rows) * 8;
  const u128 memory = machine_memory();
  if (memory != 0 && bytes > memory) {
    throw std::runtime_error(
        padding_message(rows, longest, multiple, what, "this machine's memory (" + to_string(memory) + " bytes)"));
  }
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
