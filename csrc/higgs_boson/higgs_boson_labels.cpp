// HiggsAudioSampleCollator(label_spec=...): labels derived from input_ids inside the native call.
#include <algorithm>

#include "higgs_boson/higgs_boson_collate.h"

namespace fastcollate {

void derive_labels_from_spec(HiggsBatchIn& in, const RolespanSpecData& spec) {
  int64_t total = 0, longest = 0;
  for (const HiggsSampleIn& s : in.samples) {
    if (!s.input_ids.error.empty()) continue;
    total += s.input_ids.size;
    longest = std::max(longest, s.input_ids.size);
  }
  // Sized once before any view points into it. The state machine also writes ids and an aux row (the
  // attention mask of the text collator); those go to scratch rows, the batch outputs are filled later.
  in.spec_labels.assign(total, kIgnoreIndex);
  std::vector<int64_t> ids_scratch(longest), aux_scratch(longest);
  const RolespanSpecView view = spec.view();
  int64_t offset = 0;
  for (HiggsSampleIn& s : in.samples) {
    if (!s.input_ids.error.empty()) continue;
    const IdsView& ids = s.input_ids;
    RowOut out{ids_scratch.data(), in.spec_labels.data() + offset, aux_scratch.data()};
    visit_ids(ids, [&](const auto* p) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(p)>>;
      rolespan_fill_row<T, false>(view, RowIn<T>{p, ids.stride, ids.size}, s.start_index, out);
    });
    IdsView labels;
    labels.data = in.spec_labels.data() + offset;
    labels.size = ids.size;
    labels.present = true;
    s.label_ids = labels;
    offset += ids.size;
  }
}

}  // namespace fastcollate
