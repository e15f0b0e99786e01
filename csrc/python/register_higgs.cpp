// Python entry point of the Higgs Audio collation: read every sample's buffers (GIL held), then plan,
// allocate each output once, and fill with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "higgs/higgs_collate.h"
#include "python/output_arena.h"
#include "python/tensor_view.h"

namespace fastcollate {
namespace {

// Interned attribute names: looked up for every sample, so build the Python strings once.
struct SampleFields {
  py::str input_ids{"input_ids"}, label_ids{"label_ids"}, audio_ids_concat{"audio_ids_concat"},
      audio_ids_start{"audio_ids_start"}, audio_label_ids_concat{"audio_label_ids_concat"}, reward{"reward"},
      start_index{"start_index"};
};

HiggsBatchIn read_batch(const py::sequence& batch, const std::optional<std::vector<int64_t>>& chunk_counts,
                        const HiggsOptions& opt, KeepAlive& keep) {
  static const SampleFields* names = new SampleFields();  // leaked on purpose, like all interned names
  HiggsBatchIn in;
  const size_t n = batch.size();
  in.samples.resize(n);
  keep.reserve(n * 4);
  for (size_t i = 0; i < n; ++i) {
    py::object sample = batch[i];
    HiggsSampleIn& s = in.samples[i];
    s.input_ids = read_ids_view(sample.attr(names->input_ids), keep);
    s.label_ids = read_ids_view(sample.attr(names->label_ids), keep);
    s.audio_ids_concat = read_codes_view(sample.attr(names->audio_ids_concat), keep);
    s.audio_ids_start = read_ids_view(sample.attr(names->audio_ids_start), keep);
    if (!opt.stream.transform) {
      s.audio_label_ids_concat = read_codes_view(py::getattr(sample, names->audio_label_ids_concat, py::none()), keep);
    }
    if (!opt.drop_rewards) {
      s.has_reward = read_reward(py::getattr(sample, names->reward, py::none()), s.reward, s.reward_error);
    }
    if (opt.label_spec) {
      s.start_index = read_start_index(py::getattr(sample, names->start_index, py::none()), s.start_index_error);
    }
  }
  if (chunk_counts) {
    // One count per audio-in token of each sample, in batch order (fastcollate/higgs/whisper_audio.py).
    in.chunk_counts = *chunk_counts;
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      HiggsSampleIn& s = in.samples[i];
      int64_t n_in = 0;
      if (s.input_ids.error.empty()) {
        for (int64_t t = 0; t < s.input_ids.size; ++t) n_in += s.input_ids[t] == opt.audio_in_token_id;
      }
      s.chunk_count_offset = offset;
      s.chunk_count_size = n_in;
      offset += n_in;
    }
    if (offset != static_cast<int64_t>(in.chunk_counts.size())) {
      throw std::invalid_argument("chunk_counts: " + std::to_string(in.chunk_counts.size()) +
                                  " counts for " + std::to_string(offset) + " audio-in tokens");
    }
  }
  return in;
}

py::tuple collate_higgs(const py::sequence& batch, const HiggsOptions& opt,
                        const std::optional<std::vector<int64_t>>& chunk_counts) {
  KeepAlive keep;
  HiggsBatchIn in = read_batch(batch, chunk_counts, opt, keep);
  HiggsPlan plan;
  {
    py::gil_scoped_release release;  // plan reads only the buffers pinned in `keep`
    if (opt.label_spec) derive_labels_from_spec(in, *opt.label_spec);
    plan = plan_higgs_batch(in, opt);
  }

  // Size every output from the plan, allocate once, then fill without the GIL.
  const int64_t B = plan.batch, W = plan.seq_width;
  const int64_t n_in = static_cast<int64_t>(plan.audio_in.size()), n_out = static_cast<int64_t>(plan.audio_out.size());
  const bool has_out = n_out > 0, in_tokens = opt.return_audio_in_tokens, labels = plan.with_labels;
  constexpr size_t kNone = static_cast<size_t>(-1);
  Int64Arena arena;
  const size_t s_ids = arena.reserve({B, W});
  const size_t s_mask = arena.reserve({B, W});
  const size_t s_labels = labels ? arena.reserve({B, W}) : kNone;
  const size_t s_in = in_tokens ? arena.reserve({plan.in_codebooks, plan.in_width}) : kNone;
  const size_t s_in_start = in_tokens ? arena.reserve({n_in}) : kNone;
  const size_t s_out = arena.reserve({plan.out_codebooks, plan.out_width});
  const size_t s_out_start = arena.reserve({n_out});
  const size_t s_label_audio = labels ? arena.reserve({plan.out_codebooks, plan.out_width}) : kNone;
  const size_t s_group = has_out ? arena.reserve({B}) : kNone;
  arena.allocate();
  auto data = [&](size_t slot) { return slot == kNone ? nullptr : arena.data(slot); };
  auto view = [&](size_t slot) { return slot == kNone ? py::none() : arena.view(slot); };

  HiggsOutputs out{data(s_ids),       data(s_mask),        data(s_labels),      data(s_in),
                   data(s_in_start),  data(s_out),         data(s_out_start),   data(s_label_audio),
                   data(s_group),     nullptr};
  py::object rewards = torch_empty_float32(static_cast<int64_t>(plan.rewards.size()), out.rewards);

  int64_t rows_without_learned_text = 0;
  {
    py::gil_scoped_release release;
    rows_without_learned_text = fill_higgs_batch(in, opt, plan, out);
  }
  return py::make_tuple(view(s_ids), view(s_mask), view(s_labels), view(s_in), view(s_in_start), view(s_out),
                        view(s_out_start), view(s_label_audio), view(s_group), rewards,
                        rows_without_learned_text);
}

}  // namespace

void register_higgs(py::module_& m) {
  py::class_<HiggsOptions>(m, "HiggsOptions", "Options of the compiled Higgs Audio collation (built once per collator).")
      .def(py::init([](int64_t audio_in_token_id, int64_t audio_out_token_id, int64_t pad_token_id,
                       int64_t audio_stream_bos_id, int64_t audio_stream_eos_id, int64_t round_to, bool pad_left,
                       bool return_audio_in_tokens, int64_t audio_num_codebooks, bool use_delay_pattern,
                       bool disable_audio_codes_transform, bool mask_audio_out_token_label, bool drop_rewards,
                       std::optional<RoleSpanSpecData> label_spec) {
             if (round_to < 1) throw std::invalid_argument("round_to: expected an int >= 1");
             HiggsOptions o;
             o.audio_in_token_id = audio_in_token_id;
             o.audio_out_token_id = audio_out_token_id;
             o.pad_token_id = pad_token_id;
             o.round_to = round_to;
             o.pad_left = pad_left;
             o.return_audio_in_tokens = return_audio_in_tokens;
             o.audio_num_codebooks = audio_num_codebooks;
             o.mask_audio_out_token_label = mask_audio_out_token_label;
             o.drop_rewards = drop_rewards;
             o.label_spec = std::move(label_spec);
             o.stream = AudioStreamParams{audio_stream_bos_id, audio_stream_eos_id, !disable_audio_codes_transform,
                                          use_delay_pattern};
             return o;
           }),
           py::kw_only(), py::arg("audio_in_token_id"), py::arg("audio_out_token_id"), py::arg("pad_token_id"),
           py::arg("audio_stream_bos_id"), py::arg("audio_stream_eos_id"), py::arg("round_to"), py::arg("pad_left"),
           py::arg("return_audio_in_tokens"), py::arg("audio_num_codebooks"), py::arg("use_delay_pattern"),
           py::arg("disable_audio_codes_transform"), py::arg("mask_audio_out_token_label"), py::arg("drop_rewards"),
           py::arg("label_spec") = py::none());

  m.def("collate_higgs", &collate_higgs, py::arg("batch"), py::arg("options"), py::arg("chunk_counts") = py::none(),
        "Collate a list of ChatMLDatasetSample-like objects in one native pass. Returns a tuple of torch tensors "
        "(input_ids, attention_mask, label_ids, audio_in_ids, audio_in_ids_start, audio_out_ids, "
        "audio_out_ids_start, label_audio_ids, group_loc, rewards, rows_without_learned_text); None where a "
        "field is not produced.");
}

}  // namespace fastcollate
