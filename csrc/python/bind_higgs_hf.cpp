// _core.higgs_hf: HiggsAudioV2Collator: read every feature's buffers (GIL held), then plan, allocate
// the outputs once and fill them with the GIL released. The reading rules and messages are those of
// fastcollate/higgs_hf/features.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <unordered_set>

#include "higgs_hf/code_frames.h"
#include "higgs_hf/higgs_hf_collate.h"
#include "python/feature_reader.h"
#include "python/output_arena.h"
#include "python/reader.h"

namespace fastcollate {
namespace {

// The options plus what only the Python layer reads: which Mapping keys are allowed, why start_index and
// audio_no_train would not be read, and the twin's parser of audio_no_train (features.parse_no_train).
struct HiggsHfBindOptions {
  HiggsHfOptions opt;
  std::unordered_set<std::string> allowed_keys;
  std::string unknown_key_problem, start_index_unread, no_train_unread;
  bool read_start_index = true, read_no_train = true;  // false: named in ignore_keys
  py::object parse_no_train;
};

struct FeatureNames {
  py::str input_ids{"input_ids"}, audio_codes{"audio_codes"}, start_index{"start_index"},
      audio_no_train{"audio_no_train"};
};
// Built by bind_higgs_hf() at import, never on a first call (see init_reader() in reader.h).
const FeatureNames* feature_names = nullptr;  // leaked on purpose, like all interned names

void read_no_train(py::handle value, const HiggsHfBindOptions& o, HiggsHfFeatureIn& in) {
  in.has_no_train = true;
  if (!o.no_train_unread.empty()) {
    in.no_train_error = "is given, but " + o.no_train_unread;
    return;
  }
  py::tuple parsed = o.parse_no_train(value);  // (flags or None, problem or None)
  if (!parsed[1].is_none()) {
    in.no_train_error = parsed[1].cast<std::string>();
    return;
  }
  for (py::handle flag : parsed[0]) in.no_train.push_back(flag.cast<bool>());
}

// A feature's fields as objects. Every feature's are fetched before any is read, in the twin's order
// (fastcollate/higgs_hf/features.py, read_feature): a Mapping's get or a property is user code that may change
// another feature's fields, and both backends then read them as they are after every get.
struct HfFields {
  std::string key_error_field, missing;  // an unknown Mapping key; why input_ids is absent
  py::object ids, codes, start, flags;
};

HfFields fetch_fields(py::handle f, const HiggsHfBindOptions& o, const FeatureNames& n, Keep& keep) {
  HfFields x;
  const FeatureReader r(f, keep);
  x.key_error_field = r.first_unknown_key(o.allowed_keys);
  x.ids = r.get(n.input_ids);
  if (!x.ids) x.missing = r.missing_problem();
  x.codes = r.get(n.audio_codes);
  if (o.read_start_index) x.start = r.get(n.start_index);
  if (o.read_no_train) x.flags = r.get(n.audio_no_train);
  return x;
}

HiggsHfFeatureIn read_feature(const HfFields& x, int64_t i, const HiggsHfBindOptions& o, Keep& keep) {
  HiggsHfFeatureIn in;
  in.key_error_field = x.key_error_field;
  if (!in.key_error_field.empty()) in.key_error = o.unknown_key_problem;
  if (x.ids) {
    keep.reading(i, "input_ids");
    in.input_ids = read_ids(x.ids, keep);
  } else {
    in.input_ids.error = x.missing;
  }
  if (x.start) {
    keep.note_scalar(x.start);
    in.start_index = read_start_index(x.start, o.start_index_unread, in.start_index_error);
  }
  const py::object& codes = x.codes;
  if (codes && !codes.is_none()) {
    if (PyList_Check(codes.ptr()) || PyTuple_Check(codes.ptr())) {
      // A copy of the stored clips: a clip's __index__ may change the list of clips while it is read.
      keep.reading(i, "audio_codes");
      for (py::handle clip : stored_items(codes)) in.clips.push_back(read_codes(clip, keep));
    } else {
      in.codes_error = "expected a list of (K, L) code arrays, one per audio placeholder, got " + type_name(codes);
    }
  }
  if (x.flags && !x.flags.is_none()) {
    keep.ran_python = true;  // parse_no_train reads the flags in Python
    read_no_train(x.flags, o, in);
  }
  return in;
}

py::tuple collate_features(const py::sequence& features, const HiggsHfBindOptions& o, bool counts) {
  const FeatureNames* names = feature_names;
  Keep keep;
  std::vector<HiggsHfFeatureIn> in;
  const py::tuple items = stored_items(features);  // a list subclass's own __len__/__iter__ is never called
  in.reserve(items.size());
  keep.objects.reserve(items.size() * 4);
  std::vector<HfFields> fields;
  fields.reserve(items.size());
  for (py::handle f : items) fields.push_back(fetch_fields(f, o, *names, keep));
  for (const HfFields& x : fields) in.push_back(read_feature(x, static_cast<int64_t>(in.size()), o, keep));
  check_unmoved(keep);

  HiggsHfPlan plan;
  {
    py::gil_scoped_release release;  // the plan reads only the buffers pinned in `keep`
    plan = plan_higgs_hf_batch(in, o.opt);
  }
  const int64_t B = plan.batch, W = plan.width, T = plan.frames, K = plan.codebooks;
  const bool audio = K > 0, packed = o.opt.packed;
  const int64_t rows = packed ? 1 : B;  // packed: every feature in one row
  // The token tensors in one allocation, the masks and per-feature outputs in their own (see output_arena.h).
  OutputArena arena;
  const size_t s_ids = arena.reserve({rows, W}), s_labels = arena.reserve({rows, W});
  const size_t s_mask = packed ? 0 : arena.reserve_own({rows, W});
  const size_t s_positions = packed ? arena.reserve_own({rows, W}) : 0;
  const size_t s_cu = packed ? arena.reserve_own({B + 1}, ElemType::kInt32) : 0;
  const size_t s_audio = audio ? arena.reserve({rows, T, K}) : 0;
  const size_t s_audio_labels = audio ? arena.reserve({rows, T, K}) : 0;
  const size_t s_audio_mask = audio ? arena.reserve_own({rows, T}, ElemType::kBool) : 0;
  std::vector<int64_t> learned(static_cast<size_t>(B));  // per feature; a tensor only when asked for
  arena.allocate();
  HiggsHfOutputs out{
      arena.data(s_ids), packed ? nullptr : arena.data(s_mask), arena.data(s_labels), nullptr, nullptr, nullptr,
      learned.data()};
  if (packed) {
    out.position_ids = arena.data(s_positions);
    out.cu_seqlens = arena.data_int32(s_cu);
  }
  if (audio) {
    out.audio_ids = arena.data(s_audio);
    out.audio_mask = arena.data_bool(s_audio_mask);
    out.audio_labels = arena.data(s_audio_labels);
  }
  {
    py::gil_scoped_release release;
    fill_higgs_hf_batch(in, o.opt, plan, out);
  }
  int64_t learning_nothing = 0;
  for (int64_t n : learned) learning_nothing += n == 0;
  py::object none = py::none();
  py::object counted = counts ? py::object(py::cast(learned)) : none;
  if (packed) {
    return py::make_tuple(arena.view(s_ids), arena.view(s_labels), arena.view(s_positions), arena.view(s_cu),
                          plan.longest, audio ? arena.view(s_audio) : none, audio ? arena.view(s_audio_mask) : none,
                          audio ? arena.view(s_audio_labels) : none, counted, learning_nothing);
  }
  return py::make_tuple(arena.view(s_ids), arena.view(s_mask), audio ? arena.view(s_audio) : none,
                        audio ? arena.view(s_audio_mask) : none, arena.view(s_labels),
                        audio ? arena.view(s_audio_labels) : none, counted, learning_nothing);
}

}  // namespace

void bind_higgs_hf(py::module_& m) {
  if (feature_names == nullptr) feature_names = new FeatureNames();
  py::class_<HiggsHfBindOptions>(m, "Options",
                                 "Options of the compiled HiggsAudioV2Collator (built once per collator).")
      .def(
          py::init(
              [](int64_t pad_token_id, int64_t audio_token_id, int64_t audio_bos_token_id, int64_t audio_delay_token_id,
                 int64_t audio_stream_bos_id, int64_t audio_stream_eos_id, bool pad_left, int64_t pad_to_multiple_of,
                 bool packed, int64_t num_codebooks, int64_t codebook_size, std::optional<RolespanSpecData> label_spec,
                 std::vector<std::string> allowed_keys, std::string unknown_key_problem, std::string start_index_unread,
                 std::string no_train_unread, bool read_start_index, bool read_no_train, py::object parse_no_train) {
                if (pad_to_multiple_of < 1) throw std::invalid_argument("pad_to_multiple_of: expected an int >= 1");
                HiggsHfBindOptions o;
                HiggsHfOptions& opt = o.opt;
                opt.pad_token_id = pad_token_id;
                opt.audio_token_id = audio_token_id;
                opt.audio_bos_token_id = audio_bos_token_id;
                opt.audio_delay_token_id = audio_delay_token_id;
                opt.stream_bos = audio_stream_bos_id;
                opt.stream_eos = audio_stream_eos_id;
                opt.pad_left = pad_left;
                opt.pad_to_multiple_of = pad_to_multiple_of;
                opt.num_codebooks = num_codebooks;
                opt.codebook_size = codebook_size;
                opt.spec = std::move(label_spec);
                opt.packed = packed;
                o.allowed_keys = {allowed_keys.begin(), allowed_keys.end()};
                o.unknown_key_problem = std::move(unknown_key_problem);
                o.start_index_unread = std::move(start_index_unread);
                o.no_train_unread = std::move(no_train_unread);
                o.read_start_index = read_start_index;
                o.read_no_train = read_no_train;
                o.parse_no_train = std::move(parse_no_train);
                return o;
              }),
          py::kw_only(), py::arg("pad_token_id"), py::arg("audio_token_id"), py::arg("audio_bos_token_id"),
          py::arg("audio_delay_token_id"), py::arg("audio_stream_bos_id"), py::arg("audio_stream_eos_id"),
          py::arg("pad_left"), py::arg("pad_to_multiple_of"), py::arg("packed"), py::arg("num_codebooks"),
          py::arg("codebook_size"), py::arg("label_spec"), py::arg("allowed_keys"), py::arg("unknown_key_problem"),
          py::arg("start_index_unread"), py::arg("no_train_unread"), py::arg("read_start_index"),
          py::arg("read_no_train"), py::arg("parse_no_train"))
      .def_property_readonly(
          "packed", [](const HiggsHfBindOptions& o) { return o.opt.packed; },
          "Whether collate() returns the packed layout (its tuple differs).");

  m.def("collate", &collate_features, py::arg("features"), py::arg("options"), py::arg("counts") = false,
        "Collate HiggsAudioV2Collator features in one native pass. Returns (input_ids, attention_mask, "
        "audio_input_ids, audio_input_ids_mask, labels, audio_labels, num_learned, features learning nothing); the "
        "audio entries are None when no feature has a clip; num_learned (a list, per feature) is None unless "
        "counts=True. Packed: (input_ids, labels, position_ids, cu_seq_lens, max_length, audio_input_ids, "
        "audio_input_ids_mask, audio_labels, num_learned, features learning nothing), every feature in one row.");
  m.def("simd", &code_frames_simd,
        "The SIMD path of HiggsAudioV2Collator's code transpose on this CPU: 'avx2' or 'none' (the scalar loop).");
  m.def("set_simd", &set_code_frames_simd, py::arg("allowed"),
        "Tests only: allow or forbid the SIMD path (process-wide); returns the previous setting.");
}

}  // namespace fastcollate
