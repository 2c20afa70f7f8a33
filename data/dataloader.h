// DataLoader: batches of a TextClassificationDataset as int64 tensors (bag or padded), shuffled
// per epoch from (seed, epoch) only, optionally prefetched. Not a dataset: see dataset.h.
//
// Glossary: B examples in a batch, N tokens in a batch, T tokens of the longest row.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "tensor/tensor.h"

namespace ignis::data {

// One batch, on the CPU. Bag collation (for EmbeddingBag): inputs (N,) all token indices of the
// batch back to back, offsets (B,) start of each row in inputs (an empty row is an empty bag).
// Padded collation: inputs (B, T) padded with Vocabulary::kPadIndex to the longest row,
// offsets undefined. Both: lengths (B,) tokens per row, targets (B,) label indices (undefined
// when the dataset is unlabelled). All int64.
struct Batch {
  Tensor inputs;   // (N,) or (B, T)
  Tensor offsets;  // (B,) Bag only
  Tensor lengths;  // (B,)
  Tensor targets;  // (B,) or undefined
  std::vector<int64_t> rows;  // (B) dataset row of each example (for ids at inference)
  int64_t size() const { return static_cast<int64_t>(rows.size()); }  // B
};

enum class Collate { Bag, Padded };

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = false;     // a new permutation each epoch, a function of (seed, epoch) only
  bool drop_last = false;   // drop the last batch when it is smaller than batch_size
  uint64_t seed = 0;
  Collate collate = Collate::Bag;
  bool prefetch = false;    // collate the next batch on a background thread while the
                            // current one is used
  // Where the batches' tensors live (always CPU tensors): nullptr for ordinary memory from
  // the CPU allocator; cuda::pinned_allocator() (cuda/pinned.h) for page-locked memory, which
  // a GPU copies from directly and at full bus speed, and from which cuda::to_device queues a
  // batch's copy without waiting for it (PyTorch's pin_memory=True). Without a GPU that
  // allocator is the CPU one, so the same options work on every machine.
  // NOTE: data/ never includes cuda/: the program that links both chooses the allocator.
  Allocator* allocator = nullptr;
};

// The batch of `rows` of dataset (in that order), as DataLoader makes it. Allocates only the
// batch's tensors, from `allocator` (nullptr: the CPU allocator). Throws IndexError for a row
// outside [0, dataset.size()), and what the allocator throws.
Batch collate_batch(const TextClassificationDataset& dataset, std::span<const int64_t> rows,
                    Collate mode, Allocator* allocator = nullptr);

namespace detail {

// Hands out batches 0..count-1 of one epoch, in order, made by make(i). With prefetch, a
// background thread makes batch i+1 while the consumer uses batch i (one ahead, never more);
// an exception from make is rethrown by next() in place of its batch. The destructor stops
// and joins the thread, also mid-epoch. DataLoader::Iterator's engine; public for tests.
class BatchSource {
 public:
  using MakeBatch = std::function<Batch(int64_t)>;
  BatchSource(MakeBatch make, int64_t count, bool prefetch);
  ~BatchSource();
  BatchSource(const BatchSource&) = delete;
  BatchSource& operator=(const BatchSource&) = delete;

  // Moves the next batch into `out`; false after the last one.
  bool next(Batch& out);

 private:
  void work();  // the background thread

  MakeBatch make_;
  int64_t count_;
  int64_t next_ = 0;  // index of the batch the next call to next() returns
  bool prefetch_;
  std::mutex mutex_;  // guards the three members below
  std::condition_variable changed_;
  std::optional<Batch> ready_;  // made by the thread, not yet taken
  std::exception_ptr error_;    // what make threw on the thread
  bool stop_ = false;
  std::thread worker_;          // last: started once the members above exist
};

}  // namespace detail

// An input range of Batch for engine::Engine::run (begin() / end() / size()).
// Epochs: the order of a pass is shuffled_indices(n, seed, epoch) (see dataset.h), or 0..n-1
// without shuffle. begin() starts a pass over the epoch set by set_epoch(e), else the one after
// the previous begin()'s (0 for the first): a loop over the loader reshuffles each time, and the
// Engine, which calls set_epoch(state.epoch) before each begin(), gets the same batches on a
// resumed run. Iterators are independent: each owns its pass (order, current batch, thread).
// NOTE: iterators and the loader keep a reference to the dataset: it must outlive them.
class DataLoader {
 public:
  // ValueError for batch_size < 1.
  DataLoader(const TextClassificationDataset& dataset, DataLoaderOptions options);
  DataLoader(TextClassificationDataset&& dataset, DataLoaderOptions options) = delete;

  // Input iterator over one pass; *it is the current batch, valid until the next ++it.
  class Iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;

    Iterator();
    Iterator(Iterator&&) noexcept;
    Iterator& operator=(Iterator&&) noexcept;
    ~Iterator();  // stops and joins the pass's prefetch thread

    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();  // rethrows an exception raised while collating the batch
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t);

   private:
    friend class DataLoader;
    struct Pass;
    explicit Iterator(std::unique_ptr<Pass> pass);
    std::unique_ptr<Pass> pass_;
  };

  // Starts a pass (collating its first batch) and moves to the next epoch.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }
  // Batches per pass: ceil(n / batch_size), or floor with drop_last.
  int64_t size() const;
  // The epoch the next begin() uses; ValueError for a negative epoch.
  void set_epoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  const TextClassificationDataset* dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;  // the epoch of the next pass
};

}  // namespace ignis::data
