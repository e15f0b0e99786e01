// Every int64 output of one call lives in a single torch.empty buffer, carved into contiguous views.
//
// Why one allocation: a handful of separate multi-MB buffers is what glibc returns to the OS on free (they
// exceed its trim threshold together but not apart), so every call paid a page fault per 4 KiB on fresh
// memory; one buffer is reused warm. The views share that storage, like the outputs of torch.split.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

namespace fastcollate {

namespace py = pybind11;

class Int64Arena {
 public:
  // Reserve a contiguous block of the given shape; returns its slot. Call before allocate().
  size_t reserve(std::vector<int64_t> shape);
  void allocate(py::handle device = py::none());  // a torch.device (None: the CPU)
  int64_t* data(size_t slot) const;
  py::object view(size_t slot) const;  // the block as a tensor of its shape

 private:
  struct Block {
    std::vector<int64_t> shape;
    int64_t offset;  // elements, 64-byte aligned
  };
  std::vector<Block> blocks_;
  int64_t total_ = 0;
  py::object buffer_;
  int64_t* base_ = nullptr;
};

// 1-D torch.empty(n, dtype=..., device=device) through the Python API (no libtorch link); `data` gets its
// data_ptr() (a device address for a CUDA device).
py::object torch_empty_float32(int64_t n, float*& data, py::handle device = py::none());
py::object torch_empty_int32(int64_t n, int32_t*& data, py::handle device = py::none());

}  // namespace fastcollate
