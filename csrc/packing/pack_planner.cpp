#include "packing/pack_planner.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>
#include <utility>

namespace fastcollate {
namespace {

// A row's room: text tokens and audio frames it can still take.
struct Room {
  int64_t text, audio;
};

// The rows with one text room left, for the audio budget: ordered by (audio room, row id); the best row for a
// sample is the first with audio room >= its frames.
class AudioBucket {
 public:
  int64_t best(int64_t audio) const { return rows_.lower_bound({audio, -1})->second; }
  int64_t most_audio() const { return rows_.empty() ? -1 : rows_.rbegin()->first; }
  void add(int64_t row, int64_t audio) { rows_.insert({audio, row}); }
  void remove(int64_t row, int64_t audio) { rows_.erase({audio, row}); }

 private:
  std::set<std::pair<int64_t, int64_t>> rows_;
};

// The same without an audio budget (every audio room 0): the best row is the oldest, a min-heap's top, and the
// row removed is always the one best() chose.
class TextBucket {
 public:
  int64_t best(int64_t) const { return rows_.front(); }
  int64_t most_audio() const { return rows_.empty() ? -1 : 0; }
  void add(int64_t row, int64_t) {
    rows_.push_back(row);
    std::push_heap(rows_.begin(), rows_.end(), std::greater<>());
  }
  void remove(int64_t, int64_t) {
    std::pop_heap(rows_.begin(), rows_.end(), std::greater<>());
    rows_.pop_back();
  }

 private:
  std::vector<int64_t> rows_;
};

// Open rows grouped by the text room they have left (a bucket per room value 0..max_tokens); a max-tree over the
// buckets' largest audio room finds, in O(log max_tokens), the smallest text room >= a sample's length whose
// bucket holds a row with enough audio room.
template <typename Bucket>
class OpenRows {
 public:
  explicit OpenRows(int64_t max_tokens) : buckets_(max_tokens + 1) {
    while (leaves_ < max_tokens + 1) leaves_ *= 2;
    tree_.assign(2 * leaves_, -1);
  }

  // The best row for (length, audio), or -1 when no open row holds it.
  int64_t best(int64_t length, int64_t audio) const {
    if (tree_[1] < audio) return -1;
    // Down from the root to the leftmost leaf >= length whose value is >= audio.
    const int64_t room = leftmost(1, 0, leaves_ - 1, length, audio);
    return room < 0 ? -1 : buckets_[room].best(audio);
  }

  void add(int64_t row, const Room& room) {
    buckets_[room.text].add(row, room.audio);
    update(room.text);
  }

  void remove(int64_t row, const Room& room) {
    buckets_[room.text].remove(row, room.audio);
    update(room.text);
  }

 private:
  void update(int64_t text_room) {
    int64_t i = leaves_ + text_room;
    tree_[i] = buckets_[text_room].most_audio();
    for (i /= 2; i >= 1; i /= 2) {
      const int64_t value = std::max(tree_[2 * i], tree_[2 * i + 1]);
      if (tree_[i] == value) break;  // nothing above changes
      tree_[i] = value;
    }
  }

  // The leftmost leaf in [from, ...) under `node` (covering [lo, hi]) whose value is >= audio, or -1.
  int64_t leftmost(int64_t node, int64_t lo, int64_t hi, int64_t from, int64_t audio) const {
    if (hi < from || tree_[node] < audio) return -1;
    if (lo == hi) return lo;
    const int64_t mid = (lo + hi) / 2;
    const int64_t left = leftmost(2 * node, lo, mid, from, audio);
    return left >= 0 ? left : leftmost(2 * node + 1, mid + 1, hi, from, audio);
  }

  std::vector<Bucket> buckets_;
  int64_t leaves_ = 1;
  std::vector<int64_t> tree_;
};

// Sample indices longest first: text length descending, then audio frames descending, then index.
std::vector<int64_t> longest_first(const int64_t* lengths, const int64_t* audio, int64_t n, int64_t max_tokens) {
  std::vector<int64_t> order(n);
  if (audio == nullptr) {  // a counting sort over the lengths (at most max_tokens + 1 values), stable in index
    std::vector<int64_t> start(max_tokens + 2, 0);
    for (int64_t i = 0; i < n; ++i) ++start[max_tokens - lengths[i] + 1];
    for (int64_t v = 0; v <= max_tokens; ++v) start[v + 1] += start[v];
    for (int64_t i = 0; i < n; ++i) order[start[max_tokens - lengths[i]]++] = i;
    return order;
  }
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (lengths[a] != lengths[b]) return lengths[a] > lengths[b];
    if (audio[a] != audio[b]) return audio[a] > audio[b];
    return a < b;
  });
  return order;
}

template <typename Bucket>
std::vector<int64_t> place(const int64_t* lengths, const int64_t* audio, int64_t n, int64_t max_tokens,
                           int64_t max_audio, int64_t& rows) {
  OpenRows<Bucket> open(max_tokens);
  std::vector<Room> room;
  std::vector<int64_t> row_of(n);
  for (const int64_t i : longest_first(lengths, audio, n, max_tokens)) {
    const int64_t frames = audio != nullptr ? audio[i] : 0;
    int64_t row = open.best(lengths[i], frames);
    if (row < 0) {
      row = static_cast<int64_t>(room.size());
      room.push_back({max_tokens, max_audio});
    } else {
      open.remove(row, room[row]);
    }
    room[row].text -= lengths[i];
    room[row].audio -= frames;
    open.add(row, room[row]);
    row_of[i] = row;
  }
  rows = static_cast<int64_t>(room.size());
  return row_of;
}

}  // namespace

PackPlan plan_packs(const int64_t* lengths, const int64_t* audio, int64_t n, int64_t max_tokens, int64_t max_audio) {
  int64_t rows = 0;
  const std::vector<int64_t> row_of = audio != nullptr
                                          ? place<AudioBucket>(lengths, audio, n, max_tokens, max_audio, rows)
                                          : place<TextBucket>(lengths, audio, n, max_tokens, 0, rows);

  // Counting sort by row: each row's samples come out in ascending index order.
  PackPlan plan;
  plan.offsets.assign(rows + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++plan.offsets[row_of[i] + 1];
  for (int64_t r = 0; r < rows; ++r) plan.offsets[r + 1] += plan.offsets[r];
  plan.order.resize(n);
  std::vector<int64_t> next(plan.offsets.begin(), plan.offsets.end() - 1);
  for (int64_t i = 0; i < n; ++i) plan.order[next[row_of[i]]++] = i;
  return plan;
}

}  // namespace fastcollate
