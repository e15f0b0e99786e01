#include "python/reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace fastcollate {
namespace {

constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

std::string at(int64_t j) { return "position " + std::to_string(j); }
std::string at(int64_t r, int64_t c) { return "position (" + std::to_string(r) + ", " + std::to_string(c) + ")"; }

std::string expected_kind(int ndim) {
  return ndim == 1 ? "a 1-D torch.Tensor, numpy array or list of ints"
                   : "a 2-D torch.Tensor, numpy array or list of lists of ints";
}

// One Python int as int64, or the error naming `where`. Exact ints (the usual case) take the fast path;
// numpy integer scalars and other __index__ types are accepted as operator.index() accepts them; bools not.
bool to_int64(PyObject* o, const std::string& list_kind, const std::string& where_text, int64_t& out,
              std::string& error) {
  PyObject* owned = nullptr;
  if (!PyLong_CheckExact(o)) {
    if (PyBool_Check(o) || !PyIndex_Check(o)) {
      error = "expected " + list_kind + ", got " + type_name(o) + " at " + where_text;
      return false;
    }
    owned = PyNumber_Index(o);
    if (owned == nullptr) {  // an __index__ that refuses (a float tensor): not an int, as the twin says
      std::string failure;
      if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
      } else {  // it fails otherwise (a meta tensor): named, in the same ValueError
        failure = " (" + index_failure() + ")";
      }
      error = "expected " + list_kind + ", got " + type_name(o) + " at " + where_text + failure;
      return false;
    }
    o = owned;
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow != 0) {
    error = "value " + std::string(py::str(o)) + " at " + where_text + " does not fit in int64";
    Py_XDECREF(owned);
    return false;
  }
  Py_XDECREF(owned);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  out = v;
  return true;
}

// Converts items[from, n) while each is an exact int that fits int64 (no Python code runs: no __index__);
// returns the position of the first item that is not, or n.
Py_ssize_t convert_exact_ints(PyObject* const* items, Py_ssize_t from, Py_ssize_t n, int64_t* out) {
  for (Py_ssize_t j = from; j < n; ++j) {
    PyObject* o = items[j];
    if (!PyLong_CheckExact(o)) return j;
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow != 0) return j;
    out[j] = v;
  }
  return n;
}

// Strong references to list items, held in C++ memory: taking them allocates no Python object, so no garbage
// collection (and no finalizer, which is Python code) can run while they are taken.
class ItemRefs {
 public:
  ItemRefs() = default;
  ItemRefs(const ItemRefs&) = delete;
  ItemRefs& operator=(const ItemRefs&) = delete;
  ~ItemRefs() {
    for (PyObject* o : refs_) Py_DECREF(o);
  }
  void add(PyObject* const* items, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; ++j) Py_INCREF(items[j]);
    refs_.insert(refs_.end(), items, items + n);
  }
  PyObject* const* at(size_t offset) const { return refs_.data() + offset; }

 private:
  std::vector<PyObject*> refs_;
};

// Rows `rows[0..)`, each a list or tuple already sized to `cols` entries, into out (row-major); `where(r, c)`
// only runs on an error. Exact ints are read in one pass that runs no Python code. Any other item is converted
// by its __index__, Python code that may resize or clear the lists it sits in (its own row, a later one, the
// list of rows) and free their items: so at the first such item, before it is called, the items of every row
// not yet read are snapshotted (nothing has changed them yet), and the rest is read from the snapshot. The
// read sees the lists as they were passed, as the twin does (it reads tuple() copies,
// fastcollate/common/int_input.py), and never a freed item nor a row longer than it was sized.
template <typename Where>
bool convert_rows(PyObject* const* rows, int64_t n_rows, int64_t cols, int64_t* out, const std::string& list_kind,
                  Where where, std::string& error, Keep& keep) {
  int64_t r = 0;
  Py_ssize_t c = 0;
  for (; r < n_rows; ++r) {
    c = convert_exact_ints(PySequence_Fast_ITEMS(rows[r]), 0, cols, out + r * cols);
    if (c < cols) break;
  }
  if (r == n_rows) return true;
  keep.ran_python = true;  // an __index__ runs: see check_unmoved()
  const int64_t first = r;
  ItemRefs snapshot;
  for (int64_t k = first; k < n_rows; ++k) snapshot.add(PySequence_Fast_ITEMS(rows[k]), cols);
  for (; r < n_rows; ++r, c = 0) {
    PyObject* const* items = snapshot.at(static_cast<size_t>((r - first) * cols));
    int64_t* row_out = out + r * cols;
    while ((c = convert_exact_ints(items, c, cols, row_out)) < cols) {
      int64_t v = 0;
      if (!to_int64(items[c], list_kind, where(r, c), v, error)) return false;
      row_out[c++] = v;
    }
  }
  return true;
}

bool is_sequence(py::handle v) { return PyList_Check(v.ptr()) || PyTuple_Check(v.ptr()); }

// ------------------------------------------------------------------------------------------- arrays

// A buffer's element type: integer and its byte order, else false.
struct IntFormat {
  char code = 0;
  bool is_signed = true;
  bool swap = false;
};

bool parse_int_format(const std::string& format, IntFormat& f) {
  std::string s = format;
  bool big = !kHostLittleEndian;
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '!' || s[0] == '=' || s[0] == '@')) {
    if (s[0] == '<') big = false;
    if (s[0] == '>' || s[0] == '!') big = true;
    s.erase(0, 1);
  }
  if (s.size() != 1 || std::strchr("bBhHiIlLqQ", s[0]) == nullptr) return false;
  f.code = s[0];
  f.is_signed = s[0] == 'b' || s[0] == 'h' || s[0] == 'i' || s[0] == 'l' || s[0] == 'q';
  f.swap = big == kHostLittleEndian;
  return true;
}

// The element at p (`itemsize` bytes of format f) as an unsigned 64-bit pattern, in host order.
uint64_t load_bits(const char* p, int64_t itemsize, const IntFormat& f) {
  unsigned char bytes[8];
  std::memcpy(bytes, p, static_cast<size_t>(itemsize));  // memcpy: any alignment
  if (f.swap) std::reverse(bytes, bytes + itemsize);
  uint64_t u = 0;
  for (int64_t k = 0; k < itemsize; ++k) {
    u |= static_cast<uint64_t>(bytes[k]) << (8 * (kHostLittleEndian ? k : itemsize - 1 - k));
  }
  return u;
}

// As int64 (sign-extended for signed formats); false for an unsigned 8-byte value past int64, the only one
// that does not fit.
bool load_element(const char* p, int64_t itemsize, const IntFormat& f, int64_t& out) {
  uint64_t u = load_bits(p, itemsize, f);
  if (f.is_signed && itemsize < 8 && (u >> (8 * itemsize - 1)) != 0) u |= ~uint64_t{0} << (8 * itemsize);
  if (!f.is_signed && itemsize == 8 && u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  out = static_cast<int64_t>(u);
  return true;
}

// Reads a 1-D or 2-D buffer: zero-copy for int32/int64 in native order, else one conversion to int64.
// sizes/strides out in elements; `type`/`data` describe what the view reads.
std::string read_buffer(py::handle value, int ndim, Keep& keep, ElemType& type, const void*& data, int64_t* sizes,
                        int64_t* strides) {
  auto info = std::make_unique<py::buffer_info>(py::reinterpret_borrow<py::buffer>(value).request());
  IntFormat f;
  if (!parse_int_format(info->format, f)) return "expected an integer dtype, got buffer format '" + info->format + "'";
  if (info->ndim != ndim) {
    return "expected a " + std::to_string(ndim) + "-D array, got " + std::to_string(info->ndim) + " dimensions";
  }
  const int64_t itemsize = info->itemsize;
  for (int d = 0; d < ndim; ++d) {
    if (info->strides[d] % itemsize != 0) return "expected strides that are whole numbers of elements";
    sizes[d] = info->shape[d];
    strides[d] = info->strides[d] / itemsize;
  }
  // A view repeating memory (zero or overlapping strides, np.broadcast_to) would make the kernels loop over
  // far more elements than exist; the buffer protocol does not give the storage size, so the elements must
  // have distinct addresses.
  int64_t numel = 1, extent = 1;
  for (int d = 0; d < ndim; ++d) {
    if (sizes[d] == 0) numel = 0;
    if (numel == 0) break;
    if (__builtin_mul_overflow(numel, sizes[d], &numel)) numel = INT64_MAX;
    const int64_t reach = (sizes[d] - 1) * (strides[d] < 0 ? -strides[d] : strides[d]);
    extent = extent > INT64_MAX - reach ? INT64_MAX : extent + reach;
  }
  if (numel > extent) {
    return "expected an array whose elements do not overlap: " + std::to_string(numel) + " elements over " +
           std::to_string(extent) + " distinct ones (np.broadcast_to?); pass a contiguous copy";
  }
  const bool aligned = reinterpret_cast<uintptr_t>(info->ptr) % static_cast<uintptr_t>(itemsize) == 0;
  const bool direct = aligned && !f.swap && f.is_signed && (itemsize == 8 || itemsize == 4);
  if (direct) {
    type = itemsize == 8 ? ElemType::kInt64 : ElemType::kInt32;
    data = info->ptr;
    keep.exports.push_back(std::move(info));
    return "";
  }
  // Converted once, contiguous: the view then reads int64 with row-major strides.
  const int64_t rows = ndim == 2 ? sizes[0] : 1, cols = sizes[ndim - 1];
  const int64_t row_stride = ndim == 2 ? strides[0] : 0, col_stride = strides[ndim - 1];
  int64_t* out = keep.stage(static_cast<size_t>(rows * cols));
  const char* base = static_cast<const char*>(info->ptr);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const char* p = base + (r * row_stride + c * col_stride) * itemsize;
      if (!load_element(p, itemsize, f, out[r * cols + c])) {
        return "value " + std::to_string(load_bits(p, itemsize, f)) + " at " + (ndim == 2 ? at(r, c) : at(c)) +
               " does not fit in int64";
      }
    }
  }
  type = ElemType::kInt64;
  data = out;
  strides[ndim - 1] = 1;
  if (ndim == 2) strides[0] = cols;
  return "";
}

// Element i of a typed view whose data may sit at any address.
template <typename T>
int64_t load_unaligned(const void* base, int64_t index) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + index * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return static_cast<int64_t>(v);
}

int64_t load_any(const void* base, ElemType type, int64_t index) {
  return type == ElemType::kInt64 ? load_unaligned<int64_t>(base, index) : load_unaligned<int32_t>(base, index);
}

IdsView copy_to_int64(IdsView v, int64_t count, size_t, Keep& keep) {
  int64_t* out = keep.stage(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[i] = load_any(v.data, v.type, i * v.stride);
  v.data = out;
  v.type = ElemType::kInt64;
  v.stride = 1;
  return v;
}

CodesView copy_to_int64(CodesView v, int64_t count, size_t, Keep& keep) {
  int64_t* out = keep.stage(static_cast<size_t>(count));
  for (int64_t r = 0; r < v.rows; ++r) {
    for (int64_t c = 0; c < v.cols; ++c)
      out[r * v.cols + c] = load_any(v.data, v.type, r * v.row_stride + c * v.col_stride);
  }
  v.data = out;
  v.type = ElemType::kInt64;
  v.row_stride = v.cols;
  v.col_stride = 1;
  return v;
}

}  // namespace

// A tensor whose data is not aligned to its element size (torch.frombuffer at an odd offset): read through
// memcpy into an aligned int64 copy, once, so the kernels' typed loads stay defined behaviour. Aligned
// tensors, the usual case, are read in place.
template <typename View>
View realigned(View v, int64_t count, Keep& keep) {
  const size_t size = v.type == ElemType::kInt64 ? 8 : 4;
  if (!v.error.empty() || v.data == nullptr || reinterpret_cast<uintptr_t>(v.data) % size == 0) return v;
  return copy_to_int64(v, count, size, keep);
}

IdsView read_ids(py::handle value, Keep& keep) {
  if (is_torch_tensor(value)) {
    IdsView v = read_ids_view(value, keep);
    return realigned(v, v.size, keep);
  }
  IdsView v;
  v.present = !value.is_none();
  if (is_sequence(value)) {
    PyObject* seq = value.ptr();
    const int64_t n = PySequence_Fast_GET_SIZE(seq);
    int64_t* out = keep.stage(static_cast<size_t>(n));
    if (!convert_rows(&seq, 1, n, out, "a list of ints", [](int64_t, int64_t j) { return at(j); }, v.error, keep)) {
      return v;
    }
    v.data = out;
    v.size = n;
    return v;
  }
  if (!PyObject_CheckBuffer(value.ptr())) {
    v.error = "expected " + expected_kind(1) + ", got " + type_name(value);
    return v;
  }
  int64_t size = 0, stride = 1;
  v.error = read_buffer(value, 1, keep, v.type, v.data, &size, &stride);
  v.size = size;
  v.stride = stride;
  return v;
}

CodesView read_codes(py::handle value, Keep& keep) {
  if (is_torch_tensor(value)) {
    CodesView v = read_codes_view(value, keep);
    return realigned(v, v.rows * v.cols, keep);
  }
  CodesView v;
  v.present = !value.is_none();
  if (is_sequence(value)) {
    PyObject* outer = value.ptr();
    const int64_t rows = PySequence_Fast_GET_SIZE(outer);
    PyObject** items = PySequence_Fast_ITEMS(outer);
    int64_t cols = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (!is_sequence(items[r])) {
        v.error = "expected a list of lists of ints, got " + type_name(items[r]) + " at row " + std::to_string(r);
        return v;
      }
      const int64_t n = PySequence_Fast_GET_SIZE(items[r]);
      if (r == 0) cols = n;
      if (n != cols) {
        v.error =
            "row " + std::to_string(r) + " has " + std::to_string(n) + " entries, row 0 has " + std::to_string(cols);
        return v;
      }
    }
    int64_t* out = keep.stage(static_cast<size_t>(rows * cols));
    if (!convert_rows(
            items, rows, cols, out, "a list of lists of ints", [](int64_t r, int64_t c) { return at(r, c); }, v.error,
            keep)) {
      return v;
    }
    v.data = out;
    v.rows = rows;
    v.cols = cols;
    v.row_stride = cols;
    v.col_stride = 1;
    return v;
  }
  if (!PyObject_CheckBuffer(value.ptr())) {
    v.error = "expected " + expected_kind(2) + ", got " + type_name(value);
    return v;
  }
  int64_t sizes[2] = {0, 0}, strides[2] = {0, 1};
  v.error = read_buffer(value, 2, keep, v.type, v.data, sizes, strides);
  v.rows = sizes[0];
  v.cols = sizes[1];
  v.row_stride = strides[0];
  v.col_stride = strides[1];
  return v;
}

}  // namespace fastcollate
