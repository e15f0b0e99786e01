// Python entry point of the Higgs Audio collation: read every sample's buffers (GIL held), then plan,
// allocate each output once, and fill with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "higgs/higgs_collate.h"
#include "python/tensor_view.h"

namespace fastcollate {
namespace {

// Interned attribute names: looked up for every sample, so build the Python strings once.
struct SampleFields {
  py::str input_ids{"input_ids"}, label_ids{"label_ids"}, audio_ids_concat{"audio_ids_concat"},
      audio_ids_start{"audio_ids_start"}, audio_label_ids_concat{"audio_label_ids_concat"}, reward{"reward"};
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
  }
  if (chunk_counts) {
    // One count per audio-in token of each sample, in batch order (fastcollate/whisper_audio.py).
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

// Outputs are torch tensors allocated through torch.empty (the Python API, no libtorch link), so they come
// from the same allocator as every other tensor of the training loop and need no wrapping afterwards.
struct TorchAlloc {
  py::object empty, int64, float32;
  static const TorchAlloc& get() {
    static const TorchAlloc* a = [] {
      py::module_ torch = py::module_::import("torch");
      return new TorchAlloc{torch.attr("empty"), torch.attr("int64"), torch.attr("float32")};  // leaked on purpose
    }();
    return *a;
  }
};

template <typename T>
py::object new_tensor(bool make, py::tuple shape, const py::object& dtype, T*& data) {
  data = nullptr;
  if (!make) return py::none();
  py::object t = TorchAlloc::get().empty(shape, py::arg("dtype") = dtype);
  data = reinterpret_cast<T*>(t.attr("data_ptr")().cast<uintptr_t>());
  return t;
}

py::object int64_tensor(bool make, py::tuple shape, int64_t*& data) {
  return new_tensor(make, std::move(shape), TorchAlloc::get().int64, data);
}

py::tuple collate_higgs(const py::sequence& batch, const HiggsOptions& opt,
                        const std::optional<std::vector<int64_t>>& chunk_counts) {
  KeepAlive keep;
  const HiggsBatchIn in = read_batch(batch, chunk_counts, opt, keep);
  HiggsPlan plan;
  {
    py::gil_scoped_release release;  // plan reads only the buffers pinned in `keep`
    plan = plan_higgs_batch(in, opt);
  }

  HiggsOutputs out{};
  const bool has_out = !plan.audio_out.empty();
  const auto B = static_cast<py::ssize_t>(plan.batch), W = static_cast<py::ssize_t>(plan.seq_width);
  py::object input_ids = int64_tensor(true, py::make_tuple(B, W), out.input_ids);
  py::object attention_mask = int64_tensor(true, py::make_tuple(B, W), out.attention_mask);
  py::object label_ids = int64_tensor(plan.with_labels, py::make_tuple(B, W), out.label_ids);
  const auto n_in = static_cast<py::ssize_t>(plan.audio_in.size());
  const auto n_out = static_cast<py::ssize_t>(plan.audio_out.size());
  py::object audio_in_ids = int64_tensor(opt.return_audio_in_tokens, py::make_tuple(plan.in_codebooks, plan.in_width),
                                                out.audio_in_ids);
  py::object audio_in_start = int64_tensor(opt.return_audio_in_tokens, py::make_tuple(n_in), out.audio_in_start);
  py::object audio_out_ids = int64_tensor(true, py::make_tuple(plan.out_codebooks, plan.out_width), out.audio_out_ids);
  py::object audio_out_start = int64_tensor(true, py::make_tuple(n_out), out.audio_out_start);
  py::object label_audio_ids =
      int64_tensor(plan.with_labels, py::make_tuple(plan.out_codebooks, plan.out_width), out.label_audio_ids);
  py::object group_loc = int64_tensor(has_out, py::make_tuple(B), out.group_loc);
  py::object rewards = new_tensor(true, py::make_tuple(static_cast<py::ssize_t>(plan.rewards.size())),
                                  TorchAlloc::get().float32, out.rewards);

  {
    py::gil_scoped_release release;
    fill_higgs_batch(in, opt, plan, out);
  }
  return py::make_tuple(input_ids, attention_mask, label_ids, audio_in_ids, audio_in_start, audio_out_ids,
                        audio_out_start, label_audio_ids, group_loc, rewards);
}

}  // namespace

void register_higgs(py::module_& m) {
  py::class_<HiggsOptions>(m, "HiggsOptions", "Options of the compiled Higgs Audio collation (built once per collator).")
      .def(py::init([](int64_t audio_in_token_id, int64_t audio_out_token_id, int64_t pad_token_id,
                       int64_t audio_stream_bos_id, int64_t audio_stream_eos_id, int64_t round_to, bool pad_left,
                       bool return_audio_in_tokens, int64_t audio_num_codebooks, bool use_delay_pattern,
                       bool disable_audio_codes_transform, bool mask_audio_out_token_label, bool drop_rewards) {
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
             o.stream = AudioStreamParams{audio_stream_bos_id, audio_stream_eos_id, !disable_audio_codes_transform,
                                          use_delay_pattern};
             return o;
           }),
           py::kw_only(), py::arg("audio_in_token_id"), py::arg("audio_out_token_id"), py::arg("pad_token_id"),
           py::arg("audio_stream_bos_id"), py::arg("audio_stream_eos_id"), py::arg("round_to"), py::arg("pad_left"),
           py::arg("return_audio_in_tokens"), py::arg("audio_num_codebooks"), py::arg("use_delay_pattern"),
           py::arg("disable_audio_codes_transform"), py::arg("mask_audio_out_token_label"), py::arg("drop_rewards"));

  m.def("collate_higgs", &collate_higgs, py::arg("batch"), py::arg("options"), py::arg("chunk_counts") = py::none(),
        "Collate a list of ChatMLDatasetSample-like objects in one native pass. Returns a tuple of torch tensors "
        "(input_ids, attention_mask, label_ids, audio_in_ids, audio_in_ids_start, audio_out_ids, "
        "audio_out_ids_start, label_audio_ids, group_loc, rewards); None where a field is not produced.");
}

}  // namespace fastcollate
