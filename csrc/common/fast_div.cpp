// Compile-time proof of csrc/common/fast_div.h: a wrong quotient or remainder fails the build. The 32-bit form
// is checked against plain division for every divisor up to 1024, each power of two and its neighbours up to
// 2^32 - 1, and large primes, at the numerators where a multiply-high division goes wrong first: the first
// multiples, the neighbours of each multiple near 2^32, and 2^32 - 1 itself.
#include "common/fast_div.h"

#include <initializer_list>

namespace fastcollate {
namespace {

constexpr bool exact(const FastDivider& f, int64_t n) {
  if (n < 0 || n >= kFastDivLimit) return true;
  const DivMod r = f.divmod(n);
  return r.quot == n / f.divisor && r.rem == n % f.divisor;
}

constexpr bool exact_for(int64_t d) {
  const FastDivider f = make_fast_divider(d, kFastDivLimit);
  if (!f.fast) return false;
  const int64_t top = (kFastDivLimit - 1) / d * d;  // the last multiple below 2^32
  const int64_t around[] = {0, d, 2 * d, 3 * d, top / 2 / d * d, top - d, top};
  for (const int64_t m : around) {
    for (int64_t n = m - 2; n <= m + 2; ++n) {
      if (!exact(f, n)) return false;
    }
    if (!exact(f, m + d - 1)) return false;
  }
  return exact(f, kFastDivLimit - 1) && exact(f, kFastDivLimit - 2);
}

constexpr bool all_exact() {
  for (int64_t d = 1; d <= 1024; ++d) {
    if (!exact_for(d)) return false;
  }
  for (int j = 10; j <= 32; ++j) {
    const int64_t p = int64_t{1} << j;
    for (const int64_t d : {p - 3, p - 1, p, p + 1, p + 3}) {
      if (d < kFastDivLimit && !exact_for(d)) return false;
    }
  }
  // Primes (the largest below 2^31 and 2^32, the factors of 2^32 + 1), 10^k, and a 2^31 + 2^30 + 1.
  for (const int64_t d : {int64_t{2147483647}, int64_t{4294967291}, int64_t{641}, int64_t{6700417}, int64_t{1000000007},
                          int64_t{1000000}, int64_t{3221225473}}) {
    if (!exact_for(d)) return false;
  }
  return true;
}

static_assert(all_exact(), "FastDivider: the 32-bit form differs from division");

// Where the 32-bit form is not exact, the divider keeps 64-bit division.
static_assert(!make_fast_divider(kFastDivLimit, kFastDivLimit).fast, "a divisor of 2^32 needs 64 bits");
static_assert(!make_fast_divider(3, kFastDivLimit + 1).fast, "a numerator of 2^32 needs 64 bits");
static_assert(make_fast_divider(3, kFastDivLimit).fast, "numerators below 2^32 take 32 bits");
static_assert(make_fast_divider(3, INT64_MAX).divmod(INT64_MAX).quot == INT64_MAX / 3, "64-bit quotient");
static_assert(make_fast_divider(kFastDivLimit + 1, INT64_MAX).divmod(INT64_MAX).rem == INT64_MAX % (kFastDivLimit + 1),
              "64-bit remainder");
static_assert(!make_fast_divider(0, 0).fast, "an empty launch's divider");

}  // namespace
}  // namespace fastcollate
