// Division by a divisor fixed for a whole launch, without a division instruction per element. A 64-bit
// division by a value known only at run time costs some 60-100 instructions on a GPU (it has no divide
// unit), which made the element kernels instruction-bound; the host computes a magic number once instead,
// and each division becomes a multiply-high, an add and a shift (Granlund and Montgomery, "Division by
// invariant integers using multiplication", 1994, figure 4.1; the construction of PyTorch's
// at::cuda::detail::IntDivider<unsigned int>).
//
// The 32-bit form is exact for every numerator below 2^32 and divisor in [1, 2^32): the add is done in 64
// bits, so it cannot overflow (PyTorch's does it in 32 and so stops at 2^31). A launch whose numerators or
// divisor may not fit keeps the plain 64-bit division (`fast` false): the same results, slower.
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace fastcollate {

struct DivMod {
  int64_t quot, rem;
};

struct FastDivider {
  int64_t divisor;  // > 0 wherever divmod is called
  uint32_t magic;   // fast: 2^32 * (2^shift - divisor) / divisor + 1, rounded down
  uint32_t shift;   // fast: the smallest s with 2^s >= divisor (0 to 32)
  bool fast;        // every numerator and the divisor are below 2^32: the multiply-high form is exact

  // n in [0, numerator_bound), the bound the divider was made with.
  FC_HD constexpr DivMod divmod(int64_t n) const {
    if (fast) {
      const uint32_t n32 = static_cast<uint32_t>(n);
      const uint64_t high = (static_cast<uint64_t>(n32) * magic) >> 32;
      const uint32_t q = static_cast<uint32_t>((high + n32) >> shift);
      return DivMod{q, n32 - q * static_cast<uint32_t>(divisor)};
    }
    const int64_t q = n / divisor;
    return DivMod{q, n - q * divisor};
  }
};

constexpr int64_t kFastDivLimit = int64_t{1} << 32;

// The divider by `divisor` for numerators in [0, numerator_bound). A divisor < 1 (an empty launch: nothing
// divides) gives a divider that must not be used. Host code: the magic number takes a 64-bit division.
constexpr FastDivider make_fast_divider(int64_t divisor, int64_t numerator_bound) {
  FastDivider f{divisor, 0, 0, false};
  if (divisor < 1 || divisor >= kFastDivLimit || numerator_bound > kFastDivLimit) return f;
  const uint64_t d = static_cast<uint64_t>(divisor);
  while ((uint64_t{1} << f.shift) < d) ++f.shift;
  // 2^shift - d < d <= 2^32 - 1: the product fits 64 bits and the quotient + 1 fits 32 (GM, lemma 4.1).
  f.magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << f.shift) - d)) / d + 1);
  f.fast = true;
  return f;
}

}  // namespace fastcollate
