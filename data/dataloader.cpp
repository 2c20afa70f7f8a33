// Collation, the prefetching BatchSource and DataLoader's passes (dataloader.h).
// Not the shuffle itself: shuffled_indices lives in dataset.cpp.
#include "data/dataloader.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>

#include "data/vocab.h"
#include "tensor/error.h"

namespace ignis::data {

Batch collate_batch(const TextClassificationDataset& dataset, std::span<const int64_t> rows,
                    Collate mode, Allocator* allocator) {
  const auto batch_size = static_cast<int64_t>(rows.size());  // B
  int64_t total = 0;    // N
  int64_t longest = 0;  // T
  for (int64_t row : rows) {
    const auto length = static_cast<int64_t>(dataset.tokens(row).size());
    total += length;
    longest = std::max(longest, length);
  }

  Batch batch;
  batch.rows.assign(rows.begin(), rows.end());
  batch.lengths = make_tensor({batch_size}, kInt64, allocator);
  int64_t* lengths = batch.lengths.data_ptr<int64_t>();
  if (mode == Collate::Bag) {
    batch.inputs = make_tensor({total}, kInt64, allocator);
    batch.offsets = make_tensor({batch_size}, kInt64, allocator);
    int64_t* inputs = batch.inputs.data_ptr<int64_t>();
    int64_t* offsets = batch.offsets.data_ptr<int64_t>();
    int64_t start = 0;
    for (int64_t b = 0; b < batch_size; ++b) {
      const std::vector<int64_t>& tokens = dataset.tokens(rows[b]);
      offsets[b] = start;
      lengths[b] = static_cast<int64_t>(tokens.size());
      std::copy(tokens.begin(), tokens.end(), inputs + start);
      start += lengths[b];
    }
  } else {
    batch.inputs = make_tensor({batch_size, longest}, kInt64, allocator);
    int64_t* inputs = batch.inputs.data_ptr<int64_t>();
    for (int64_t b = 0; b < batch_size; ++b) {
      const std::vector<int64_t>& tokens = dataset.tokens(rows[b]);
      lengths[b] = static_cast<int64_t>(tokens.size());
      int64_t* line = inputs + b * longest;
      std::copy(tokens.begin(), tokens.end(), line);
      std::fill(line + lengths[b], line + longest, Vocabulary::kPadIndex);
    }
  }
  if (dataset.has_labels()) {
    batch.targets = make_tensor({batch_size}, kInt64, allocator);
    int64_t* targets = batch.targets.data_ptr<int64_t>();
    for (int64_t b = 0; b < batch_size; ++b) targets[b] = dataset.label(rows[b]);
  }
  return batch;
}

// ---- BatchSource ----

namespace detail {

BatchSource::BatchSource(MakeBatch make, int64_t count, bool prefetch)
    : make_(std::move(make)), count_(count), prefetch_(prefetch) {
  if (prefetch_ && count_ > 0) worker_ = std::thread([this] { work(); });
}

BatchSource::~BatchSource() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BatchSource::work() {
  for (int64_t i = 0; i < count_; ++i) {
    {
      // One batch ahead: make batch i only once the consumer has taken batch i - 1.
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || !ready_; });
      if (stop_) return;
    }
    bool failed = false;
    try {
      Batch batch = make_(i);
      std::lock_guard lock(mutex_);
      ready_ = std::move(batch);
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      failed = true;
    }
    changed_.notify_all();
    if (failed) return;
  }
}

bool BatchSource::next(Batch& out) {
  if (next_ >= count_) return false;
  if (!prefetch_) {
    out = make_(next_);
    ++next_;
    return true;
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return ready_.has_value() || error_; });
  if (!ready_) std::rethrow_exception(error_);
  out = std::move(*ready_);
  ready_.reset();
  ++next_;
  lock.unlock();
  changed_.notify_all();
  return true;
}

}  // namespace detail

// ---- DataLoader ----

// One pass over the data. `source` is declared last so that it is destroyed first: its thread
// reads `order` and the dataset.
struct DataLoader::Iterator::Pass {
  const TextClassificationDataset* dataset = nullptr;
  DataLoaderOptions options;
  std::vector<int64_t> order;  // (n) the rows in this pass's order
  Batch current;
  bool done = false;
  std::optional<detail::BatchSource> source;
};

DataLoader::Iterator::Iterator() = default;
DataLoader::Iterator::Iterator(Iterator&&) noexcept = default;
DataLoader::Iterator& DataLoader::Iterator::operator=(Iterator&&) noexcept = default;
DataLoader::Iterator::~Iterator() = default;
DataLoader::Iterator::Iterator(std::unique_ptr<Pass> pass) : pass_(std::move(pass)) {}

const Batch& DataLoader::Iterator::operator*() const {
  IGNIS_INTERNAL_ASSERT(pass_ && !pass_->done);
  return pass_->current;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  IGNIS_INTERNAL_ASSERT(pass_ && !pass_->done);
  if (!pass_->source->next(pass_->current)) {
    pass_->done = true;
    pass_->current = Batch{};
  }
  return *this;
}

bool operator==(const DataLoader::Iterator& it, std::default_sentinel_t) {
  return !it.pass_ || it.pass_->done;
}

DataLoader::DataLoader(const TextClassificationDataset& dataset, DataLoaderOptions options)
    : dataset_(&dataset), options_(options) {
  if (options_.batch_size < 1) {
    throw ValueError("DataLoader: batch_size must be >= 1, got " +
                     std::to_string(options_.batch_size));
  }
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  const int64_t full = n / options_.batch_size;
  return options_.drop_last || n % options_.batch_size == 0 ? full : full + 1;
}

void DataLoader::set_epoch(int64_t epoch) {
  if (epoch < 0) {
    throw ValueError("DataLoader::set_epoch: epoch must be >= 0, got " + std::to_string(epoch));
  }
  epoch_ = epoch;
}

DataLoader::Iterator DataLoader::begin() {
  auto pass = std::make_unique<Iterator::Pass>();
  pass->dataset = dataset_;
  pass->options = options_;
  const int64_t n = dataset_->size();
  if (options_.shuffle) {
    pass->order = shuffled_indices(n, options_.seed, static_cast<uint64_t>(epoch_));
  } else {
    pass->order.resize(static_cast<size_t>(n));
    std::iota(pass->order.begin(), pass->order.end(), int64_t{0});
  }
  ++epoch_;
  Iterator::Pass* raw = pass.get();
  auto make = [raw](int64_t i) {
    const int64_t batch_size = raw->options.batch_size;
    const auto n_rows = static_cast<int64_t>(raw->order.size());
    const int64_t start = i * batch_size;
    const int64_t stop = std::min(start + batch_size, n_rows);
    const std::span<const int64_t> rows(raw->order.data() + start,
                                        static_cast<size_t>(stop - start));
    return collate_batch(*raw->dataset, rows, raw->options.collate, raw->options.allocator);
  };
  pass->source.emplace(make, size(), options_.prefetch);
  Iterator it(std::move(pass));
  ++it;
  return it;
}

}  // namespace ignis::data
