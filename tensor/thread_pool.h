// A persistent CPU thread pool and parallel_for. Idle workers sleep on a condition variable
// (never spin: on time-sliced vCPUs a spinning pool starves the thread doing the work).
// Not a task graph: one parallel_for at a time; nested calls run inline.
#pragma once

#include <cstdint>
#include <functional>

namespace ignis {

// Number of threads parallel_for uses (the caller included). Default: the hardware
// concurrency, or IGNIS_NUM_THREADS when set.
int get_num_threads();
void set_num_threads(int n);  // n >= 1; throws ValueError otherwise

// Splits [begin, end) into chunks of at least `grain` iterations and calls fn(chunk_begin,
// chunk_end) on them, in parallel when there is more than one chunk. The chunking depends
// only on (begin, end, grain, get_num_threads()); kernels that must give bit-identical
// results for any thread count must not let the chunk boundaries change the arithmetic.
// An exception thrown by fn is rethrown in the caller after every chunk has finished.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// True inside a parallel_for body (nested parallel_for calls then run serially).
bool in_parallel_region();

}  // namespace ignis
