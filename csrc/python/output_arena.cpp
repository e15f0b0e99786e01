#include "python/output_arena.h"

#include <algorithm>
#include <stdexcept>

#include "common/checked_size.h"

namespace fastcollate {
namespace {

struct TorchAlloc {
  py::object empty, int64, float32, int32;
  py::str as_strided{"as_strided"}, data_ptr{"data_ptr"};
  static const TorchAlloc& get() {
    static const TorchAlloc* a = [] {
      py::module_ torch = py::module_::import("torch");
      return new TorchAlloc{torch.attr("empty"), torch.attr("int64"), torch.attr("float32"),
                               torch.attr("int32")};  // leaked on purpose
    }();
    return *a;
  }
};

constexpr int64_t kAlign = 8;  // elements: 64 bytes

uintptr_t data_ptr_of(const py::object& t) { return t.attr(TorchAlloc::get().data_ptr)().cast<uintptr_t>(); }

}  // namespace

size_t Int64Arena::reserve(std::vector<int64_t> shape) {
  // Every shape was checked against kMaxTensorBytes by the plan; the sum of them is checked here.
  u128 numel = 1;
  for (int64_t d : shape) numel = std::min<u128>(numel * static_cast<u128>(d < 0 ? 0 : d), kMaxTensorBytes);
  const u128 total = static_cast<u128>(total_) + (numel + kAlign - 1) / kAlign * kAlign;
  if (total * 8 > static_cast<u128>(kMaxTensorBytes)) {
    throw std::invalid_argument("batch: its outputs together need more than a process can address");
  }
  blocks_.push_back(Block{std::move(shape), total_});
  total_ = static_cast<int64_t>(total);
  return blocks_.size() - 1;
}

void Int64Arena::allocate(py::handle device) {
  const TorchAlloc& torch = TorchAlloc::get();
  buffer_ = torch.empty(py::make_tuple(total_), py::arg("dtype") = torch.int64, py::arg("device") = device);
  base_ = reinterpret_cast<int64_t*>(data_ptr_of(buffer_));
}

int64_t* Int64Arena::data(size_t slot) const { return base_ + blocks_[slot].offset; }

py::object Int64Arena::view(size_t slot) const {
  const Block& b = blocks_[slot];
  py::tuple size(b.shape.size()), stride(b.shape.size());
  int64_t step = 1;
  for (size_t d = b.shape.size(); d-- > 0;) {
    size[d] = py::int_(b.shape[d]);
    stride[d] = py::int_(step);
    step *= b.shape[d] > 0 ? b.shape[d] : 1;
  }
  return buffer_.attr(TorchAlloc::get().as_strided)(size, stride, b.offset);
}

template <typename T>
py::object empty_1d(int64_t n, const py::object& dtype, T*& data, py::handle device) {
  py::object t = TorchAlloc::get().empty(py::make_tuple(n), py::arg("dtype") = dtype, py::arg("device") = device);
  data = reinterpret_cast<T*>(data_ptr_of(t));
  return t;
}

py::object torch_empty_float32(int64_t n, float*& data, py::handle device) {
  return empty_1d(n, TorchAlloc::get().float32, data, device);
}
py::object torch_empty_int32(int64_t n, int32_t*& data, py::handle device) {
  return empty_1d(n, TorchAlloc::get().int32, data, device);
}

}  // namespace fastcollate
