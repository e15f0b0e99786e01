// The extension module: registration only, one submodule per capability (csrc/python/bind_<capability>.cpp).
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastcollate {
void bind_runtime(py::module_& m);
void bind_rolespan(py::module_& m);
void bind_delay(py::module_& m);
void bind_higgs_boson(py::module_& m);
void bind_higgs_hf(py::module_& m);
void bind_packing(py::module_& m);
void init_reader();
void init_output_arena();
void init_feature_reader();
}  // namespace fastcollate

PYBIND11_MODULE(_core, m) {
  m.doc() =
      "fastcollate compiled kernels (CPU, and CUDA when built). Talks to tensors through raw buffers; never "
      "links libtorch.";
  m.attr("__version__") = FASTCOLLATE_VERSION;
  // Every Python object the native code looks up is looked up here, at import (one thread, under the import
  // lock), never lazily on a first call: a lazy initialiser that runs Python under a C++ init guard deadlocks
  // when a second thread, holding the GIL, waits on that guard.
  fastcollate::init_reader();
  fastcollate::init_output_arena();
  fastcollate::init_feature_reader();
  const struct {
    const char* name;
    const char* doc;
    void (*bind)(py::module_&);
  } capabilities[] = {
      {"runtime", "What this build runs on: its CUDA kernels and devices.", fastcollate::bind_runtime},
      {"rolespan", "Role-span masking: ChatCollator and role_span_labels.", fastcollate::bind_rolespan},
      {"delay", "The multi-codebook delay pattern ops.", fastcollate::bind_delay},
      {"higgs_boson", "HiggsAudioSampleCollator (boson-multimodal's format).", fastcollate::bind_higgs_boson},
      {"higgs_hf", "HiggsAudioV2Collator (transformers' Higgs Audio v2 format).", fastcollate::bind_higgs_hf},
      {"packing", "The best-fit-decreasing packing planner.", fastcollate::bind_packing},
  };
  for (const auto& c : capabilities) {
    py::module_ sub = m.def_submodule(c.name, c.doc);
    c.bind(sub);
  }
}
