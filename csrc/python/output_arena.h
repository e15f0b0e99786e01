// The outputs of one call live in one allocation, carved into contiguous tensors of their own shapes; the
// small ones a user may keep past the step (masks, per-row counts and offsets) each get an allocation of their
// own, made in the same allocate() call, so that keeping one does not keep the batch's block alive.
//
// Why one allocation for the rest: a handful of separate multi-MB buffers is what glibc returns to the OS on
// free (they exceed its trim threshold together but not apart), so every call paid a page fault per 4 KiB on
// fresh memory; one block is reused warm.
//
// Why DLPack on the CPU: each torch call from C++ (torch.empty, as_strided) costs more than the fill of a
// small batch's output; one aligned host allocation with one from_dlpack call per output costs less. The
// tensors of one allocation share it (freed with the last of them, from any thread: the deleter needs no GIL),
// like the outputs of torch.split.
// On a CUDA device each allocation is one torch.empty (the caching allocator) and the outputs are views of it.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "common/elem_type.h"

namespace fastcollate {

namespace py = pybind11;

// Looks up torch.empty, the dtypes and from_dlpack; called once while the module is imported.
void init_output_arena();

// Bytes of the host allocations of every OutputArena alive in the process, each rounded up to 64 (tests: what a
// kept output keeps alive).
int64_t host_output_bytes();

class OutputArena {
 public:
  OutputArena() = default;
  OutputArena(const OutputArena&) = delete;
  OutputArena& operator=(const OutputArena&) = delete;
  ~OutputArena();

  // Reserve a contiguous block of the given shape (at most 4 dims) in the batch's block; returns its slot.
  // Call before allocate().
  size_t reserve(std::vector<int64_t> shape, ElemType elem = ElemType::kInt64);
  // The same in an allocation of its own: for an output a user may keep after dropping the batch.
  size_t reserve_own(std::vector<int64_t> shape, ElemType elem = ElemType::kInt64);
  // Every allocation at once: a torch.device (None: host memory, for the CPU).
  void allocate(py::handle device = py::none());
  int64_t* data(size_t slot) const { return static_cast<int64_t*>(bytes(slot, ElemType::kInt64)); }
  int32_t* data_int32(size_t slot) const { return static_cast<int32_t*>(bytes(slot, ElemType::kInt32)); }
  float* data_float32(size_t slot) const { return static_cast<float*>(bytes(slot, ElemType::kFloat32)); }
  bool* data_bool(size_t slot) const { return static_cast<bool*>(bytes(slot, ElemType::kBool)); }
  py::object view(size_t slot) const;  // the block as a tensor of its shape

  struct HostBlock;  // a host allocation, shared by the tensors made from it

 private:
  // One allocation: the batch's block (memory_[0]) or an output's own.
  struct Memory {
    int64_t bytes = 0;          // a multiple of 64
    HostBlock* host = nullptr;  // one reference, dropped by the destructor
    py::object buffer;          // the torch.empty of a device arena
    char* base = nullptr;
  };
  struct Block {
    std::vector<int64_t> shape;
    ElemType elem;
    size_t memory;   // index in memory_
    int64_t offset;  // bytes into it, 64-byte aligned
  };
  size_t add(std::vector<int64_t> shape, ElemType elem, bool own);
  void* bytes(size_t slot, ElemType elem) const;
  std::vector<Block> blocks_;
  std::vector<Memory> memory_ = std::vector<Memory>(1);
  int64_t total_ = 0;  // bytes of every allocation together
  bool on_device_ = false;
};

}  // namespace fastcollate
