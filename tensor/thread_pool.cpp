// The persistent CPU thread pool behind parallel_for: between jobs workers poll for the next
// one for a short while, then park on a condition variable; they claim chunks under the
// pool's mutex. Not a task scheduler: one job at a
// time; a parallel_for issued while another runs (nested, or from a second thread) runs its
// chunks serially in the calling thread.
#include "tensor/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tensor/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ignis {
namespace {

// How long an idle worker polls for the next job, and the caller for the last chunk of its
// job, before parking on a condition variable. Waking a parked worker took 10-40 us on the
// 2-vCPU development machine, as long as the whole of a small job: a 256^3 SGEMM is about
// 70 us on two threads. Consecutive parallel ops of a training step start well within
// 50 us of each other, so the worker is still polling when the next one comes; after that
// it parks and costs nothing. Polling uses the pause instruction and reads one atomic.
constexpr std::chrono::microseconds kPollBeforeParking{50};

// Polls `ready` until it returns true (-> true) or kPollBeforeParking has passed (-> false).
template <typename Ready>
bool poll_briefly(Ready&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kPollBeforeParking;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

thread_local bool t_in_parallel_region = false;

// Marks the current thread as running a parallel_for body for its lifetime.
class RegionGuard {
 public:
  RegionGuard() : previous_(t_in_parallel_region) { t_in_parallel_region = true; }
  ~RegionGuard() { t_in_parallel_region = previous_; }
  RegionGuard(const RegionGuard&) = delete;
  RegionGuard& operator=(const RegionGuard&) = delete;

 private:
  bool previous_;
};

int default_num_threads() {
  if (const char* env = std::getenv("IGNIS_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 4096) return static_cast<int>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// The chunks of one parallel_for: chunk c covers [begin + c * size, min(end, ... + size)).
struct Job {
  const ChunkFn* fn = nullptr;
  int64_t begin = 0;
  int64_t end = 0;
  int64_t chunk_size = 0;
  int64_t num_chunks = 0;
  int64_t next_chunk = 0;   // next unclaimed chunk
  int64_t done_chunks = 0;  // finished chunks
  std::exception_ptr error;
};

void run_chunk(const Job& job, int64_t chunk, std::exception_ptr& error) {
  const int64_t lo = job.begin + chunk * job.chunk_size;
  const int64_t hi = std::min(job.end, lo + job.chunk_size);
  try {
    (*job.fn)(lo, hi);
  } catch (...) {
    if (!error) error = std::current_exception();
  }
}

class ThreadPool {
 public:
  ThreadPool() : num_threads_(default_num_threads()) {}

  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // Read on every parallel_for, hence lock-free; written only between jobs.
  int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }

  void set_num_threads(int n) {
    std::lock_guard busy(run_mutex_);  // never resize under a running job
    num_threads_.store(n, std::memory_order_relaxed);
  }

  void run(int64_t begin, int64_t end, int64_t chunk_size, int64_t num_chunks,
           const ChunkFn& fn) {
    std::unique_lock busy(run_mutex_, std::try_to_lock);
    if (!busy.owns_lock()) {
      run_serially(begin, end, chunk_size, num_chunks, fn);
      return;
    }
    std::unique_lock lock(mutex_);
    start_workers(std::min<int64_t>(num_chunks, num_threads()) - 1);
    job_ = Job{&fn, begin, end, chunk_size, num_chunks, 0, 0, nullptr};
    job_done_.store(false, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    work_cv_.notify_all();
    work_on_job(lock);  // the caller does chunks too
    if (job_.done_chunks != job_.num_chunks) {
      lock.unlock();
      poll_briefly([&] { return job_done_.load(std::memory_order_acquire); });
      lock.lock();
    }
    done_cv_.wait(lock, [&] { return job_.done_chunks == job_.num_chunks; });
    std::exception_ptr error = job_.error;
    job_ = Job{};
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

  static void run_serially(int64_t begin, int64_t end, int64_t chunk_size, int64_t num_chunks,
                           const ChunkFn& fn) {
    RegionGuard region;
    Job job{&fn, begin, end, chunk_size, num_chunks, 0, 0, nullptr};
    std::exception_ptr error;
    for (int64_t c = 0; c < num_chunks; ++c) run_chunk(job, c, error);
    if (error) std::rethrow_exception(error);
  }

 private:
  // Grows the pool to `n` workers (it never shrinks: idle workers cost nothing).
  // Called under mutex_ before the job's generation is published: a new worker starts from
  // the generation before it, so the job about to be published is new to it. (Had it read
  // generation_ when it first got the mutex, after the caller had published the job, it would
  // have taken that job for an old one and left all its chunks to the caller.)
  void start_workers(int64_t n) {
    const uint64_t current = generation_.load(std::memory_order_relaxed);
    while (static_cast<int64_t>(workers_.size()) < n) {
      workers_.emplace_back([this, current] { worker_loop(current); });
    }
  }

  // Claims and runs chunks of the current job until none is left; `lock` holds mutex_ on
  // entry and on exit, and is released while a chunk runs.
  void work_on_job(std::unique_lock<std::mutex>& lock) {
    RegionGuard region;
    while (job_.next_chunk < job_.num_chunks) {
      const int64_t chunk = job_.next_chunk++;
      const Job job = job_;
      std::exception_ptr error;
      lock.unlock();
      run_chunk(job, chunk, error);
      lock.lock();
      if (error && !job_.error) job_.error = error;
      if (++job_.done_chunks == job_.num_chunks) {
        job_done_.store(true, std::memory_order_release);
        done_cv_.notify_all();
      }
    }
  }

  // `seen`: the last generation this worker counts as done.
  void worker_loop(uint64_t seen) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!stopping_ && generation_.load(std::memory_order_relaxed) == seen) {
        lock.unlock();
        poll_briefly([&] { return generation_.load(std::memory_order_acquire) != seen; });
        lock.lock();
      }
      work_cv_.wait(lock, [&] {
        return stopping_ || generation_.load(std::memory_order_relaxed) != seen;
      });
      if (stopping_) return;
      seen = generation_.load(std::memory_order_relaxed);
      work_on_job(lock);
    }
  }

  std::mutex run_mutex_;      // held by the caller of the running job
  std::atomic<int> num_threads_;
  std::mutex mutex_;          // guards everything below
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> workers_;
  // Written under mutex_; atomic so that polling threads can read them without it.
  std::atomic<uint64_t> generation_ = 0;  // bumped once per job
  std::atomic<bool> job_done_ = false;    // the current job's last chunk has finished
  bool stopping_ = false;
  Job job_;
};

ThreadPool& pool() {
  static ThreadPool instance;
  return instance;
}

}  // namespace

int get_num_threads() { return pool().num_threads(); }

void set_num_threads(int n) {
  if (n < 1) {
    throw ValueError("set_num_threads: expected n >= 1, got " + std::to_string(n));
  }
  if (in_parallel_region()) {
    throw ValueError("set_num_threads: cannot be called inside a parallel_for body");
  }
  pool().set_num_threads(n);
}

bool in_parallel_region() { return t_in_parallel_region; }

void parallel_for(int64_t begin, int64_t end, int64_t grain, ChunkFn fn) {
  if (end <= begin) return;
  const int64_t n = end - begin;
  grain = std::max<int64_t>(grain, 1);
  // Every chunk gets at least `grain` iterations (the header's promise), so at most n / grain.
  const int64_t max_chunks = std::clamp<int64_t>(n / grain, 1, get_num_threads());
  const int64_t chunk_size = (n + max_chunks - 1) / max_chunks;
  const int64_t num_chunks = (n + chunk_size - 1) / chunk_size;  // no empty trailing chunk
  if (num_chunks == 1) {
    RegionGuard region;
    fn(begin, end);
    return;
  }
  if (in_parallel_region()) {
    ThreadPool::run_serially(begin, end, chunk_size, num_chunks, fn);
    return;
  }
  pool().run(begin, end, chunk_size, num_chunks, fn);
}

}  // namespace ignis
