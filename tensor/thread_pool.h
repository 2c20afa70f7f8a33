// A persistent CPU thread pool and parallel_for. Idle workers poll for the next job for at
// most 50 us, then sleep on a condition variable (never a long spin: on time-sliced vCPUs a
// spinning pool starves the thread doing the work).
// Not a task graph: one parallel_for at a time; nested calls run inline.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace ignis {

// Number of threads parallel_for uses (the caller included). Default: the hardware
// concurrency, or IGNIS_NUM_THREADS when set.
int get_num_threads();
void set_num_threads(int n);  // n >= 1; throws ValueError otherwise

// A non-owning reference to a callable fn(int64_t begin, int64_t end): what parallel_for
// takes. Unlike std::function it never allocates (a lambda capturing more than two pointers
// would cost a heap allocation per parallel_for); the callable must outlive the call, which a
// temporary passed straight to parallel_for does.
class ChunkFn {
 public:
  template <typename F>
    requires std::invocable<F&, int64_t, int64_t> &&
             (!std::same_as<std::remove_cvref_t<F>, ChunkFn>)
  ChunkFn(F&& fn)  // implicit: parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {...})
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
        call_([](void* object, int64_t begin, int64_t end) {
          (*static_cast<std::remove_reference_t<F>*>(object))(begin, end);
        }) {}

  void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, int64_t, int64_t);
};

// Splits [begin, end) into chunks of at least `grain` iterations and calls fn(chunk_begin,
// chunk_end) on them, in parallel when there is more than one chunk. The chunking depends
// only on (begin, end, grain, get_num_threads()); kernels that must give bit-identical
// results for any thread count must not let the chunk boundaries change the arithmetic.
// An exception thrown by fn is rethrown in the caller after every chunk has finished.
// Takes no lock and wakes no thread when the work is a single chunk (end - begin < 2 * grain,
// or one thread).
void parallel_for(int64_t begin, int64_t end, int64_t grain, ChunkFn fn);

// True inside a parallel_for body (nested parallel_for calls then run serially).
bool in_parallel_region();

}  // namespace ignis
