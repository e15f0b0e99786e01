// _core.higgs_boson: HiggsAudioSampleCollator. Read every sample's buffers (GIL held), then plan, allocate each
// output once, and fill with the GIL released (collate), or assemble the batch with the kernels (kernel_collate).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "higgs_boson/higgs_boson_collate.h"
#include "higgs_boson/higgs_boson_stage.h"
#include "python/feature_reader.h"
#include "python/output_arena.h"
#include "python/reader.h"
#include "python/staging.h"

namespace fastcollate {
namespace {

// Interned field names: looked up for every sample, so build the Python strings once.
struct SampleFields {
  py::str input_ids{"input_ids"}, label_ids{"label_ids"}, audio_ids_concat{"audio_ids_concat"},
      audio_ids_start{"audio_ids_start"}, audio_label_ids_concat{"audio_label_ids_concat"}, reward{"reward"},
      start_index{"start_index"};
};
// Built by bind_higgs_boson() at import, never on a first call (see init_reader() in reader.h).
const SampleFields* sample_fields = nullptr;  // leaked on purpose, like all interned names

// One sample's fields by name (csrc/python/feature_reader.h), by the rules of fastcollate/higgs_boson/sample_fields.py
// (same messages). An absent field reads as None when it is optional; an absent required field becomes a view
// carrying the "missing" error, raised only if the field is read.
py::object optional(const FeatureReader& r, const py::str& name) {
  py::object v = r.get(name);
  return v ? v : py::none();
}

// One sample's field objects, fetched before any sample's values are read (as the twin's read_sample does for
// the whole batch): code that fetching runs (a Mapping's get, a property) has run before anything is read.
struct SampleObjects {
  std::string key_error_field, missing;
  py::object input_ids, label_ids, audio_ids_concat, audio_ids_start, audio_label_ids_concat, reward, start_index;
};

SampleObjects fetch_sample(py::handle sample, const HiggsOptions& opt, Keep& keep) {
  const SampleFields* names = sample_fields;
  const FeatureReader r(sample, keep, "sample");
  SampleObjects o;
  o.key_error_field = r.first_unknown_key(opt.allowed_keys);
  o.input_ids = r.get(names->input_ids);
  o.label_ids = optional(r, names->label_ids);
  o.audio_ids_concat = r.get(names->audio_ids_concat);
  o.audio_ids_start = r.get(names->audio_ids_start);
  if (!opt.stream.transform) o.audio_label_ids_concat = optional(r, names->audio_label_ids_concat);
  if (!opt.drop_rewards) o.reward = optional(r, names->reward);
  o.start_index = optional(r, names->start_index);
  if (!o.input_ids || !o.audio_ids_concat || !o.audio_ids_start) o.missing = r.missing_problem();  // only if used
  return o;
}

// A required field's view; an absent one carries the "missing" error, raised only if the field is read.
template <typename View, typename Read>
View required(const py::object& value, const std::string& missing, Keep& keep, Read read) {
  if (value) return read(value, keep);
  View v;
  v.error = missing;
  return v;
}

void read_sample(const SampleObjects& o, int64_t at, const HiggsOptions& opt, Keep& keep, HiggsSampleIn& s) {
  s.key_error_field = o.key_error_field;
  if (!s.key_error_field.empty()) s.key_error = opt.unknown_key_problem;
  keep.reading(at, "input_ids");
  s.input_ids = required<IdsView>(o.input_ids, o.missing, keep, read_ids);
  if (!o.input_ids && s.key_error.empty()) {
    // Not a sample at all (None, an int): a sample-level error, reported before any field of the batch.
    s.key_error_field = "input_ids";
    s.key_error = o.missing;
  }
  keep.reading(at, "label_ids");
  s.label_ids = read_ids(o.label_ids, keep);
  keep.reading(at, "audio_ids_concat");
  s.audio_ids_concat = required<CodesView>(o.audio_ids_concat, o.missing, keep, read_codes);
  keep.reading(at, "audio_ids_start");
  s.audio_ids_start = required<IdsView>(o.audio_ids_start, o.missing, keep, read_ids);
  if (!opt.stream.transform) {
    keep.reading(at, "audio_label_ids_concat");
    s.audio_label_ids_concat = read_codes(o.audio_label_ids_concat, keep);
  }
  if (!opt.drop_rewards) {
    keep.note_scalar(o.reward);
    s.has_reward = read_reward(o.reward, s.reward, s.reward_error);
  }
  keep.note_scalar(o.start_index);
  s.start_index = read_start_index(o.start_index, opt.start_index_unread, s.start_index_error);
}

HiggsBatchIn read_batch(const py::sequence& batch, const std::optional<std::vector<int64_t>>& chunk_counts,
                        const HiggsOptions& opt, Keep& keep) {
  HiggsBatchIn in;
  const py::tuple samples = stored_items(batch);  // a list subclass's own __getitem__ is never called
  const size_t n = samples.size();
  std::vector<SampleObjects> objects;
  objects.reserve(n);
  for (size_t i = 0; i < n; ++i) objects.push_back(fetch_sample(samples[i], opt, keep));
  in.samples.resize(n);
  keep.objects.reserve(n * 4);
  for (size_t i = 0; i < n; ++i) read_sample(objects[i], static_cast<int64_t>(i), opt, keep, in.samples[i]);
  check_unmoved(keep);
  if (chunk_counts) assign_chunk_counts(in, opt, *chunk_counts);
  return in;
}

// The token tensors of the batch in one allocation, the mask and the per-clip and per-row outputs in their own
// (output_arena.h), on `device` (None: the CPU).
class HiggsOutputArena {
 public:
  HiggsOutputArena(const HiggsPlan& plan, const HiggsOptions& opt, py::handle device) {
    const int64_t B = plan.batch, W = plan.seq_width;
    const int64_t n_in = static_cast<int64_t>(plan.audio_in.size()),
                  n_out = static_cast<int64_t>(plan.audio_out.size());
    const bool labels = plan.with_labels, in_tokens = opt.return_audio_in_tokens;
    slots_[kIds] = arena_.reserve({B, W});
    slots_[kMask] = arena_.reserve_own({B, W});
    slots_[kLabels] = labels ? arena_.reserve({B, W}) : kNone;
    slots_[kIn] = in_tokens ? arena_.reserve({plan.in_codebooks, plan.in_width}) : kNone;
    slots_[kInStart] = in_tokens ? arena_.reserve_own({n_in}) : kNone;
    slots_[kOut] = arena_.reserve({plan.out_codebooks, plan.out_width});
    slots_[kOutStart] = arena_.reserve_own({n_out});
    slots_[kLabelAudio] = labels ? arena_.reserve({plan.out_codebooks, plan.out_width}) : kNone;
    slots_[kGroup] = n_out > 0 ? arena_.reserve_own({B}) : kNone;
    slots_[kRewards] = arena_.reserve_own({static_cast<int64_t>(plan.rewards.size())}, ElemType::kFloat32);
    arena_.allocate(device);
    out = HiggsOutputs{
        data(kIds), data(kMask),     data(kLabels),     data(kIn),    data(kInStart),
        data(kOut), data(kOutStart), data(kLabelAudio), data(kGroup), arena_.data_float32(slots_[kRewards])};
  }

  HiggsOutputs out;

  // collate_higgs' return value.
  py::tuple result(int64_t rows_without_learned_text) const {
    return py::make_tuple(view(kIds), view(kMask), view(kLabels), view(kIn), view(kInStart), view(kOut),
                          view(kOutStart), view(kLabelAudio), view(kGroup), view(kRewards), rows_without_learned_text);
  }

 private:
  enum Slot { kIds, kMask, kLabels, kIn, kInStart, kOut, kOutStart, kLabelAudio, kGroup, kRewards, kSlots };
  static constexpr size_t kNone = static_cast<size_t>(-1);
  int64_t* data(Slot s) const { return slots_[s] == kNone ? nullptr : arena_.data(slots_[s]); }
  py::object view(Slot s) const { return slots_[s] == kNone ? py::none() : arena_.view(slots_[s]); }
  OutputArena arena_;
  size_t slots_[kSlots] = {};
};

HiggsPlan read_and_plan(const py::sequence& batch, const HiggsOptions& opt,
                        const std::optional<std::vector<int64_t>>& chunk_counts, Keep& keep, HiggsBatchIn& in) {
  in = read_batch(batch, chunk_counts, opt, keep);
  py::gil_scoped_release release;  // plan reads only the buffers pinned in `keep`
  if (opt.label_spec) derive_labels_from_spec(in, *opt.label_spec);
  return plan_higgs_batch(in, opt);
}

py::tuple collate_higgs(const py::sequence& batch, const HiggsOptions& opt,
                        const std::optional<std::vector<int64_t>>& chunk_counts) {
  Keep keep;
  HiggsBatchIn in;
  const HiggsPlan plan = read_and_plan(batch, opt, chunk_counts, keep, in);
  // Size every output from the plan, allocate once, then fill without the GIL.
  HiggsOutputArena outputs(plan, opt, py::none());
  int64_t rows_without_learned_text = 0;
  {
    py::gil_scoped_release release;
    rows_without_learned_text = fill_higgs_batch(in, opt, plan, outputs.out);
  }
  return outputs.result(rows_without_learned_text);
}

// backend="cuda" (device >= 0, on `stream`), or the same kernels on the CPU grid runner (device -1): read and
// plan as above, pack one staging buffer (higgs_stage.h), copy it once, assemble the batch with the kernels.
py::tuple collate_higgs_kernels(const py::sequence& batch, const HiggsOptions& opt,
                                const std::optional<std::vector<int64_t>>& chunk_counts, int device, uintptr_t stream,
                                bool reverse) {
  const Target target = Target::kernels(device, stream, reverse);
  Keep keep;
  HiggsBatchIn in;
  const HiggsPlan plan = read_and_plan(batch, opt, chunk_counts, keep, in);
  const HiggsStageLayout layout = plan_higgs_stage(in, opt, plan);
  Staging staging(layout.words, target);
  int64_t rows_without_learned_text = 0;
  {
    py::gil_scoped_release release;
    rows_without_learned_text = stage_higgs_batch(in, opt, plan, layout, staging.host());
  }
  staging.upload();
  HiggsOutputArena outputs(plan, opt, torch_device(target));
  const HiggsLaunch launch = higgs_launch(opt, plan, layout, staging.kernels(), outputs.out);
  {
    py::gil_scoped_release release;
    run_higgs(target, launch);
  }
  return outputs.result(rows_without_learned_text);
}

}  // namespace

void bind_higgs_boson(py::module_& m) {
  if (sample_fields == nullptr) sample_fields = new SampleFields();
  py::class_<HiggsOptions>(m, "Options", "Options of the compiled Higgs Audio collation (built once per collator).")
      .def(py::init([](int64_t audio_in_token_id, int64_t audio_out_token_id, int64_t pad_token_id,
                       int64_t audio_stream_bos_id, int64_t audio_stream_eos_id, int64_t round_to, bool pad_left,
                       bool return_audio_in_tokens, int64_t audio_num_codebooks, int64_t codebook_size,
                       bool use_delay_pattern, bool disable_audio_codes_transform, bool mask_audio_out_token_label,
                       bool drop_rewards, std::optional<RolespanSpecData> label_spec, std::string start_index_unread,
                       std::vector<std::string> allowed_keys, std::string unknown_key_problem) {
             if (round_to < 1) throw std::invalid_argument("round_to: expected an int >= 1");
             HiggsOptions o;
             o.audio_in_token_id = audio_in_token_id;
             o.audio_out_token_id = audio_out_token_id;
             o.pad_token_id = pad_token_id;
             o.round_to = round_to;
             o.pad_left = pad_left;
             o.return_audio_in_tokens = return_audio_in_tokens;
             o.audio_num_codebooks = audio_num_codebooks;
             o.codebook_size = codebook_size;
             o.mask_audio_out_token_label = mask_audio_out_token_label;
             o.drop_rewards = drop_rewards;
             o.label_spec = std::move(label_spec);
             o.start_index_unread = std::move(start_index_unread);
             o.allowed_keys = {allowed_keys.begin(), allowed_keys.end()};
             o.unknown_key_problem = std::move(unknown_key_problem);
             o.stream = AudioStreamParams{audio_stream_bos_id, audio_stream_eos_id, !disable_audio_codes_transform,
                                          use_delay_pattern};
             return o;
           }),
           py::kw_only(), py::arg("audio_in_token_id"), py::arg("audio_out_token_id"), py::arg("pad_token_id"),
           py::arg("audio_stream_bos_id"), py::arg("audio_stream_eos_id"), py::arg("round_to"), py::arg("pad_left"),
           py::arg("return_audio_in_tokens"), py::arg("audio_num_codebooks"), py::arg("codebook_size"),
           py::arg("use_delay_pattern"), py::arg("disable_audio_codes_transform"),
           py::arg("mask_audio_out_token_label"), py::arg("drop_rewards"), py::arg("label_spec") = py::none(),
           py::arg("start_index_unread") = "", py::arg("allowed_keys") = std::vector<std::string>(),
           py::arg("unknown_key_problem") = "");

  m.def("collate", &collate_higgs, py::arg("batch"), py::arg("options"), py::arg("chunk_counts") = py::none(),
        "Collate a list of ChatMLDatasetSample-like objects in one native pass. Returns a tuple of torch tensors "
        "(input_ids, attention_mask, label_ids, audio_in_ids, audio_in_ids_start, audio_out_ids, "
        "audio_out_ids_start, label_audio_ids, group_loc, rewards, rows_without_learned_text); None where a "
        "field is not produced.");
  m.def("kernel_collate", &collate_higgs_kernels, py::arg("batch"), py::arg("options"), py::arg("chunk_counts"),
        py::arg("device"), py::arg("stream") = 0, py::arg("reverse") = false,
        "collate through the staging buffer and the kernels: on CUDA device `device` and `stream`, or "
        "(device -1) the CPU grid runner.");
}

}  // namespace fastcollate
