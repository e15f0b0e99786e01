// The DLPack ABI (https://dmlc.github.io/dlpack/latest/c_api.html), the unversioned form every torch release
// that has DLPack accepts: a "dltensor" capsule holding a DLManagedTensor. Declared here, field for field, so
// the extension needs neither torch's headers nor a vendored dlpack.h for the few structs it fills.
#pragma once

#include <cstdint>

namespace fastcollate {
namespace dlpack {

enum DeviceType : int32_t { kCPU = 1 };
enum TypeCode : uint8_t { kInt = 0, kUInt = 1, kFloat = 2, kBool = 6 };

struct Device {
  int32_t device_type;
  int32_t device_id;
};

struct DataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct Tensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements
  uint64_t byte_offset;
};

struct ManagedTensor {
  Tensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};

// The capsule name before a consumer takes the tensor; consumers rename it "used_dltensor".
inline constexpr const char* kCapsuleName = "dltensor";

}  // namespace dlpack
}  // namespace fastcollate
