// The element type of a buffer the native code reads or writes (a torch dtype), one enum for every capability:
// token ids (int32/int64), audio codes (int16/int32/int64), attention masks (bool/int32/int64), outputs
// (int64, int32 cu_seqlens, float32 rewards, bool masks). kNone: no buffer (an absent optional input);
// kOther: a dtype no op accepts (named in the caller's error message).
#pragma once

#include <cstdint>

namespace fastcollate {

enum class ElemType : uint8_t { kNone, kBool, kInt16, kInt32, kInt64, kFloat32, kOther };
constexpr int kElemTypes = 7;

}  // namespace fastcollate
