// _core.packing: the best-fit-decreasing packing planner (csrc/packing/pack_planner.h).
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "packing/pack_planner.h"
#include "python/reader.h"

namespace fastcollate {
namespace {

// A 1-D integer column (tensor, numpy array or list) as int64 values, each in [0, limit].
std::vector<int64_t> read_column(py::handle value, const char* name, int64_t limit, Keep& keep) {
  const IdsView v = read_ids(value, keep);
  if (!v.error.empty()) throw std::invalid_argument(std::string(name) + ": " + v.error);
  std::vector<int64_t> out(v.size);
  for (int64_t i = 0; i < v.size; ++i) {
    out[i] = v[i];
    if (out[i] < 0 || out[i] > limit) {
      throw std::invalid_argument(std::string(name) + ": value " + std::to_string(out[i]) + " at position " +
                                  std::to_string(i) + " is outside [0, " + std::to_string(limit) + "]");
    }
  }
  return out;
}

// The packs: a list of lists of sample indices, rows in the order they were opened.
py::list plan(py::handle lengths, int64_t max_tokens, py::handle audio_lengths, int64_t max_audio) {
  if (max_tokens < 1 || max_tokens > kMaxPackTokens) {
    throw std::invalid_argument("max_tokens: expected an int in [1, " + std::to_string(kMaxPackTokens) + "]");
  }
  Keep keep;
  const std::vector<int64_t> text = read_column(lengths, "lengths", max_tokens, keep);
  std::vector<int64_t> audio;
  if (!audio_lengths.is_none()) {
    if (max_audio < 0) throw std::invalid_argument("max_audio_frames: expected an int >= 0");
    audio = read_column(audio_lengths, "audio_lengths", max_audio, keep);
    if (audio.size() != text.size()) {
      throw std::invalid_argument("audio_lengths: " + std::to_string(audio.size()) + " entries for " +
                                  std::to_string(text.size()) + " lengths");
    }
  }
  PackPlan packs;
  {
    py::gil_scoped_release release;
    packs = plan_packs(text.data(), audio.empty() ? nullptr : audio.data(), static_cast<int64_t>(text.size()),
                       max_tokens, max_audio);
  }
  // The packs as Python lists built here: one pass, no intermediate tensor, list of ints or slices. The cyclic
  // garbage collector is paused meanwhile: these lists hold only ints, and a million new containers would
  // otherwise trigger collections that cost more than the plan.
  const auto rows = static_cast<Py_ssize_t>(packs.offsets.size()) - 1;
  struct GcPause {
    const int was_enabled = PyGC_Disable();
    ~GcPause() {
      if (was_enabled) PyGC_Enable();
    }
  } gc_pause;
  py::list out(rows);
  for (Py_ssize_t r = 0; r < rows; ++r) {
    const int64_t begin = packs.offsets[r], end = packs.offsets[r + 1];
    PyObject* pack = PyList_New(end - begin);
    if (pack == nullptr) throw py::error_already_set();
    PyList_SET_ITEM(out.ptr(), r, pack);  // owned by `out` from here on
    for (int64_t k = begin; k < end; ++k) {
      PyObject* index = PyLong_FromLongLong(packs.order[k]);
      if (index == nullptr) throw py::error_already_set();
      PyList_SET_ITEM(pack, k - begin, index);
    }
  }
  return out;
}

}  // namespace

void bind_packing(py::module_& m) {
  m.attr("max_tokens") = kMaxPackTokens;
  m.def("plan", &plan, py::arg("lengths"), py::arg("max_tokens"), py::arg("audio_lengths") = py::none(),
        py::arg("max_audio") = 0,
        "Best-fit-decreasing packs of samples into rows of at most max_tokens (and max_audio frames): a list of "
        "packs, each a list of sample indices (ascending).");
}

}  // namespace fastcollate
