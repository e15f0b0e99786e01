#include "python/feature_reader.h"

namespace fastcollate {
namespace {

// Built by init_feature_reader() while the module is imported (csrc/python/module.cpp), never on a first call
// (see TorchObjects in reader.cpp: Python run under a C++ init guard can deadlock two first callers).
struct Interned {
  py::object mapping_type = py::module_::import("collections.abc").attr("Mapping");
  py::object absent = py::module_::import("builtins").attr("object")();  // a unique "no such key" marker
  py::str get{"get"};
  static const Interned* instance_;  // leaked on purpose, like all interned names
  static const Interned& instance() { return *instance_; }
};

const Interned* Interned::instance_ = nullptr;

// Whether reading attribute `name` of `obj` may run Python code: anything but the generic lookup of an instance
// attribute, a plain class attribute (a dataclass default) or a C-level descriptor (a slot).
bool attribute_runs_python(PyObject* obj, PyObject* name) {
  PyTypeObject* type = Py_TYPE(obj);
  if (type->tp_getattro != PyObject_GenericGetAttr) return true;  // __getattribute__ or __getattr__
  PyObject* attr = _PyType_Lookup(type, name);                    // borrowed; runs no Python code
  if (attr == nullptr || Py_TYPE(attr)->tp_descr_get == nullptr) return false;
  return Py_TYPE(attr) != &PyMemberDescr_Type && Py_TYPE(attr) != &PyGetSetDescr_Type;
}

}  // namespace

void init_feature_reader() {
  if (Interned::instance_ == nullptr) Interned::instance_ = new Interned();
}

FeatureReader::FeatureReader(py::handle feature, Keep& keep, const char* noun)
    : feature_(feature),
      keep_(keep),
      noun_(noun),
      is_dict_(PyDict_Check(feature.ptr())),
      is_mapping_(is_dict_ || py::isinstance(feature, Interned::instance().mapping_type)) {}

py::object FeatureReader::get(const py::str& name) const {
  if (is_dict_) {
    PyObject* v = PyDict_GetItemWithError(feature_.ptr(), name.ptr());
    if (v == nullptr && PyErr_Occurred()) throw py::error_already_set();
    return py::reinterpret_borrow<py::object>(v);
  }
  if (is_mapping_) {
    keep_.ran_python = true;
    const Interned& n = Interned::instance();
    py::object v = feature_.attr(n.get)(name, n.absent);
    return v.is(n.absent) ? py::object() : v;
  }
  if (attribute_runs_python(feature_.ptr(), name.ptr())) keep_.ran_python = true;
  PyObject* v = PyObject_GetAttr(feature_.ptr(), name.ptr());
  if (v == nullptr) {
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) throw py::error_already_set();
    PyErr_Clear();
  }
  return py::reinterpret_steal<py::object>(v);
}

std::string FeatureReader::missing_problem() const {
  return is_mapping_ ? std::string("missing: the ") + noun_ + " (a Mapping) has no such key"
                     : std::string("missing: the ") + noun_ + " (a " + type_name(feature_) + ") has no such attribute";
}

std::string FeatureReader::first_unknown_key(const std::unordered_set<std::string>& allowed) const {
  if (!is_mapping_) return "";
  auto unknown = [&](py::handle key) {
    Py_ssize_t n = 0;
    const char* utf8 = PyUnicode_Check(key.ptr()) ? PyUnicode_AsUTF8AndSize(key.ptr(), &n) : nullptr;
    if (utf8 != nullptr && allowed.count(std::string(utf8, n))) return false;
    PyErr_Clear();
    return true;
  };
  if (is_dict_) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(feature_.ptr(), &pos, &key, &value)) {
      if (unknown(key)) return py::str(key);
    }
    return "";
  }
  keep_.ran_python = true;
  for (py::handle key : feature_) {
    if (unknown(key)) return py::str(key);
  }
  return "";
}

}  // namespace fastcollate
