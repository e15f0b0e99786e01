// Reading one feature's fields by name: keys of a dict or other Mapping, or attributes of an object, with the
// rules every collator shares: an absent field is a null object (the caller decides whether it is optional),
// and a Mapping key outside the allowed set is reported, never silently ignored.
// Used by both Higgs collators (csrc/python/bind_higgs_boson.cpp, bind_higgs_hf.cpp).
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <unordered_set>

#include "python/reader.h"

namespace fastcollate {

// Builds the interned names and markers; called once while the module is imported.
void init_feature_reader();

class FeatureReader {
 public:
  // `noun` names the thing in messages: "feature" (HiggsAudioV2Collator), "sample" (HiggsAudioSampleCollator).
  // Marks `keep` (Keep::ran_python) when a read may run the feature's own Python code: a Mapping's get or
  // keys, a property, __getattr__.
  FeatureReader(py::handle feature, Keep& keep, const char* noun = "feature");

  bool is_mapping() const { return is_mapping_; }
  // The value, or a null object when the feature has no such key or attribute.
  py::object get(const py::str& name) const;
  // The message for an absent required field ("missing: the {noun} (a Mapping) has no such key", ...).
  std::string missing_problem() const;
  // The first Mapping key not in `allowed`, as a string; empty when every key is allowed (or not a Mapping).
  std::string first_unknown_key(const std::unordered_set<std::string>& allowed) const;

 private:
  py::handle feature_;
  Keep& keep_;
  const char* noun_;
  bool is_dict_, is_mapping_;
};

}  // namespace fastcollate
