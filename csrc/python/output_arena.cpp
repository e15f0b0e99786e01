#include "python/output_arena.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "common/checked_size.h"
#include "python/dlpack_abi.h"

namespace fastcollate {
namespace {

constexpr int64_t kAlign = 64;  // bytes, for every block and the allocation itself
constexpr int kMaxDims = 4;

struct ElemInfo {
  int64_t size;
  dlpack::DataType dl;
  const char* torch_name;
};

ElemInfo info(ElemType e) {
  switch (e) {
    case ElemType::kInt32:
      return {4, {dlpack::kInt, 32, 1}, "int32"};
    case ElemType::kFloat32:
      return {4, {dlpack::kFloat, 32, 1}, "float32"};
    case ElemType::kBool:
      return {1, {dlpack::kBool, 8, 1}, "bool"};
    default:
      break;  // kInt64
  }
  return {8, {dlpack::kInt, 64, 1}, "int64"};
}

// Built by init_output_arena() while the module is imported (csrc/python/module.cpp), never on a first call
// (see TorchObjects in reader.cpp: Python run under a C++ init guard can deadlock two first callers).
struct TorchCalls {
  py::object empty, uint8, from_dlpack;
  py::object dtype[kElemTypes];       // by ElemType
  static const TorchCalls* instance;  // leaked on purpose: destroying Python objects at exit is unsafe
  static const TorchCalls& get() { return *instance; }
};

const TorchCalls* TorchCalls::instance = nullptr;

// Row-major strides of `shape` (a size-0 or size-1 dimension's stride is never used to address an element).
void row_major(const std::vector<int64_t>& shape, int64_t* strides) {
  int64_t step = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = step;
    step *= shape[d] > 0 ? shape[d] : 1;
  }
}

}  // namespace

void init_output_arena() {
  if (TorchCalls::instance != nullptr) return;
  py::module_ torch = py::module_::import("torch");
  auto* c = new TorchCalls();
  c->empty = torch.attr("empty");
  c->uint8 = torch.attr("uint8");
  // The public entry point: it takes a capsule in every torch release since DLPack support (1.x).
  c->from_dlpack = py::module_::import("torch.utils.dlpack").attr("from_dlpack");
  for (ElemType e : {ElemType::kInt64, ElemType::kInt32, ElemType::kFloat32, ElemType::kBool}) {
    c->dtype[static_cast<int>(e)] = torch.attr(info(e).torch_name);
  }
  TorchCalls::instance = c;
}

struct OutputArena::HostBlock {
  std::atomic<int64_t> refs{1};
  void* data = nullptr;
  int64_t bytes = 0;
};

namespace {

// Bytes of the host allocations alive (constant-initialised: no guard on any call).
std::atomic<int64_t> host_bytes_alive{0};

void release(OutputArena::HostBlock* block) {
  if (block->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    host_bytes_alive.fetch_sub(block->bytes, std::memory_order_relaxed);
    std::free(block->data);
    delete block;
  }
}

// One output handed to torch: the DLPack struct, the shape and strides it points at, and a reference to the
// block.
struct Exported {
  dlpack::ManagedTensor managed;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
  OutputArena::HostBlock* block;
};

void delete_exported(dlpack::ManagedTensor* m) {
  auto* e = static_cast<Exported*>(m->manager_ctx);
  OutputArena::HostBlock* block = e->block;
  delete e;
  release(block);
}

// The DLPack protocol: a capsule still named "dltensor" when it dies was never consumed (the consumer raised),
// so its producer frees it; a consumed one is renamed and its consumer calls the deleter.
void capsule_destructor(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, dlpack::kCapsuleName)) return;
  auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(capsule, dlpack::kCapsuleName));
  m->deleter(m);
}

}  // namespace

int64_t host_output_bytes() { return host_bytes_alive.load(std::memory_order_relaxed); }

OutputArena::~OutputArena() {
  for (Memory& m : memory_) {
    if (m.host != nullptr) release(m.host);
  }
}

size_t OutputArena::reserve(std::vector<int64_t> shape, ElemType elem) { return add(std::move(shape), elem, false); }

size_t OutputArena::reserve_own(std::vector<int64_t> shape, ElemType elem) { return add(std::move(shape), elem, true); }

size_t OutputArena::add(std::vector<int64_t> shape, ElemType elem, bool own) {
  if (shape.size() > static_cast<size_t>(kMaxDims)) throw std::logic_error("OutputArena: more than 4 dims");
  // Every shape was checked against kMaxTensorBytes by the plan; the sum of them is checked here.
  u128 numel = 1;
  for (int64_t d : shape) numel = std::min<u128>(numel * static_cast<u128>(d < 0 ? 0 : d), kMaxTensorBytes);
  const u128 nbytes = (numel * static_cast<u128>(info(elem).size) + kAlign - 1) / kAlign * kAlign;
  const u128 total = static_cast<u128>(total_) + nbytes;
  if (total > static_cast<u128>(kMaxTensorBytes)) {
    throw std::invalid_argument("batch: its outputs together need more than a process can address");
  }
  total_ = static_cast<int64_t>(total);
  if (own) memory_.emplace_back();
  Memory& m = own ? memory_.back() : memory_[0];
  blocks_.push_back(Block{std::move(shape), elem, own ? memory_.size() - 1 : 0, m.bytes});
  m.bytes += static_cast<int64_t>(nbytes);
  return blocks_.size() - 1;
}

void OutputArena::allocate(py::handle device) {
  on_device_ = !device.is_none();
  // The outputs of their own first, the batch's block last: on the host a kept output then sits below the
  // freed block, which goes back to the top of the heap and is reused by the next batch (the other order left
  // about as much heap unreusable per kept output as the block it used to pin).
  for (size_t i = memory_.size(); i-- > 0;) {
    Memory& m = memory_[i];
    if (!on_device_) {
      // At least one aligned line, so that every output (empty ones too) has a valid data pointer.
      const int64_t bytes = std::max<int64_t>(m.bytes, kAlign);
      m.host = new HostBlock();  // first: the destructor frees it if the allocation below fails
      void* data = std::aligned_alloc(kAlign, static_cast<size_t>(bytes));
      if (data == nullptr) {  // RuntimeError, as torch's allocator raises for the twin's outputs
        throw std::runtime_error("batch: can't allocate memory: its outputs need " + std::to_string(bytes) + " bytes");
      }
      m.host->data = data;
      m.host->bytes = bytes;
      host_bytes_alive.fetch_add(bytes, std::memory_order_relaxed);
      m.base = static_cast<char*>(data);
      continue;
    }
    const TorchCalls& torch = TorchCalls::get();
    m.buffer = torch.empty(py::make_tuple(std::max<int64_t>(m.bytes, kAlign)), py::arg("dtype") = torch.uint8,
                           py::arg("device") = device);
    m.base = reinterpret_cast<char*>(m.buffer.attr("data_ptr")().cast<uintptr_t>());
  }
}

void* OutputArena::bytes(size_t slot, ElemType elem) const {
  if (blocks_[slot].elem != elem) throw std::logic_error("OutputArena: a slot read as another element type");
  return memory_[blocks_[slot].memory].base + blocks_[slot].offset;
}

py::object OutputArena::view(size_t slot) const {
  const Block& b = blocks_[slot];
  const ElemInfo e = info(b.elem);
  const Memory& m = memory_[b.memory];
  const TorchCalls& torch = TorchCalls::get();
  if (on_device_) {  // a view of its torch.empty buffer
    py::tuple size(b.shape.size()), stride(b.shape.size());
    int64_t strides[kMaxDims];
    row_major(b.shape, strides);
    for (size_t d = 0; d < b.shape.size(); ++d) {
      size[d] = py::int_(b.shape[d]);
      stride[d] = py::int_(strides[d]);
    }
    return m.buffer.attr("view")(torch.dtype[static_cast<int>(b.elem)])
        .attr("as_strided")(size, stride, b.offset / e.size);
  }
  auto* x = new Exported();
  x->block = m.host;
  m.host->refs.fetch_add(1, std::memory_order_relaxed);
  for (size_t d = 0; d < b.shape.size(); ++d) x->shape[d] = b.shape[d];
  row_major(b.shape, x->strides);
  dlpack::Tensor& t = x->managed.dl_tensor;
  t.data = m.base + b.offset;  // the offset in the pointer: byte_offset was ignored by some older consumers
  t.device = {dlpack::kCPU, 0};
  t.ndim = static_cast<int32_t>(b.shape.size());
  t.dtype = e.dl;
  t.shape = x->shape;
  t.strides = x->strides;
  t.byte_offset = 0;
  x->managed.manager_ctx = x;
  x->managed.deleter = delete_exported;
  PyObject* capsule = PyCapsule_New(&x->managed, dlpack::kCapsuleName, capsule_destructor);
  if (capsule == nullptr) {
    delete_exported(&x->managed);
    throw py::error_already_set();
  }
  return torch.from_dlpack(py::reinterpret_steal<py::object>(capsule));
}

}  // namespace fastcollate
