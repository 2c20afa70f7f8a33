// Side-by-side SGEMM: ignis's cpu::gemm against OpenBLAS's cblas_sgemm on the shapes of
// gemm_shapes.h, same thread count, runs interleaved with each other and with the FMA-peak
// probe (bench/fma_probe.h, on as many threads), median GFLOP/s of each, ratio to OpenBLAS,
// fraction of the peak, and one PASS/FAIL verdict line per requirement of docs/performance.md.
// Not a Google Benchmark suite (that is gemm_bench.cpp): one table, meant to be read by people.
//
// Usage: gemm_vs_openblas [--threads N] [--runs R] [--filter TEXT] [--clock wall|cpu]
//                         [--only ignis|openblas]
//   defaults: ignis's thread count, 7 runs, every shape (else those whose name contains TEXT),
//   wall-clock time, both libraries. `--only` times one library and never calls the other, so
//   the other's idle threads cannot take a vCPU from it (OpenBLAS's workers spin for a while
//   after each call; with `--only ignis` also set OPENBLAS_NUM_THREADS=1, since a threaded
//   OpenBLAS starts its workers when it loads). It prints `shape GFLOP/s` lines (median of
//   R >= 1 runs) for bench/gemm_two_processes.sh, which runs the libraries in turn in
//   processes of their own. `--clock cpu` (one thread only) times the calling thread's CPU
//   time, which leaves out the time it was descheduled: steadier numbers on a shared,
//   time-sliced machine.
// For a fair comparison, run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS
// picks its own kernel for this CPU; the table's header names that kernel.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/fma_probe.h"
#include "bench/gemm_shapes.h"
#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace {

using ignis::bench::GemmShape;
using Clock = std::chrono::steady_clock;

// The worst ratio ours / OpenBLAS over a group of shapes, for the verdict lines.
struct Worst {
  double ratio = 1e300;
  std::string shape;
  void add(double r, const std::string& name) {
    if (r < ratio) ratio = r, shape = name;
  }
};

// 64-byte aligned, like the storage of ignis tensors (a std::vector of this size would start
// 16 bytes past a line, and split half of all vector loads and stores over two lines).
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  explicit AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  bool operator==(const AlignedAllocator&) const { return true; }
};
using AlignedVector = std::vector<float, AlignedAllocator<float>>;

struct Operands {
  AlignedVector a, b, c;  // op(A) (m, k), op(B) (k, n), C (m, n), all dense row-major
  int64_t lda, ldb;
};

Operands make_operands(const GemmShape& s, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Operands o;
  o.a.resize(static_cast<size_t>(s.m * s.k));
  o.b.resize(static_cast<size_t>(s.k * s.n));
  o.c.assign(static_cast<size_t>(s.m * s.n), 0.f);
  for (float& x : o.a) x = uniform(rng);
  for (float& x : o.b) x = uniform(rng);
  o.lda = s.trans_a ? s.m : s.k;
  o.ldb = s.trans_b ? s.k : s.n;
  return o;
}

void run_ignis(const GemmShape& s, Operands& o) {
  ignis::GemmArgs args{ignis::kFloat32, s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0, 0.0,
                       o.a.data(), o.lda, 0, o.b.data(), o.ldb, 0, o.c.data(), s.n, 0};
  ignis::cpu::gemm(args);
}

void run_openblas(const GemmShape& s, Operands& o) {
  cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
              s.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(s.m),
              static_cast<int>(s.n), static_cast<int>(s.k), 1.f, o.a.data(),
              static_cast<int>(o.lda), o.b.data(), static_cast<int>(o.ldb), 0.f, o.c.data(),
              static_cast<int>(s.n));
}

// Seconds on the wall clock, or of the calling thread's CPU time.
double now(bool cpu_clock) {
  if (cpu_clock) {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Calls of shape `s` per timed run: enough for about 20 ms at 500 GFLOP/s, the two-thread
// speed of both libraries here, so that a run of square 1024 is 4 calls rather than one
// (a single call of 4.5 ms was at the mercy of one time slice of the host).
int64_t calls_per_run(const GemmShape& s) {
  const double flop = 2.0 * static_cast<double>(s.m * s.n * s.k);
  return std::max<int64_t>(1, static_cast<int64_t>(1e10 / flop));
}

// GFLOP/s of `reps` back-to-back calls.
template <typename F>
double gflops(const GemmShape& s, int64_t reps, bool cpu_clock, F&& call) {
  const double start = now(cpu_clock);
  for (int64_t r = 0; r < reps; ++r) call();
  const double seconds = now(cpu_clock) - start;
  return 2.0 * static_cast<double>(s.m * s.n * s.k) * static_cast<double>(reps) / seconds * 1e-9;
}

// GFLOP/s of the FMA probe run on `threads` threads at once, timed like the GEMMs: about
// 6 ms at 260 GFLOP/s per thread, long next to the cost of starting the threads.
double fma_peak(int threads, bool cpu_clock) {
  constexpr int64_t kRounds = int64_t{1} << 22;
  std::vector<double> sink(static_cast<size_t>(threads));
  const double start = now(cpu_clock);
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) {
    helpers.emplace_back(
        [&sink, t] { sink[static_cast<size_t>(t)] = ignis::bench::fma_chains(kRounds); });
  }
  sink[0] = ignis::bench::fma_chains(kRounds);
  for (std::thread& h : helpers) h.join();
  const double seconds = now(cpu_clock) - start;
  double total = 0.0;
  for (double v : sink) total += v;
  volatile double keep = total;  // the probe's result is used, so its work is done
  (void)keep;
  return static_cast<double>(threads) * static_cast<double>(kRounds) *
         ignis::bench::fma_flop_per_round() / seconds * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// max |ours - openblas| / max |openblas|: a sanity check that both computed the same product.
double relative_difference(const GemmShape& s, Operands& o) {
  run_openblas(s, o);
  const AlignedVector reference = o.c;
  run_ignis(s, o);
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < reference.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(o.c[i] - reference[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(reference[i])));
  }
  return scale > 0.0 ? diff / scale : diff;
}

// `--only`: one library's median GFLOP/s per shape, one `shape GFLOP/s` line each, the other
// library never called (so none of its threads exist).
int time_one_library(bool ignis_side, int runs, const std::string& filter, bool cpu_clock) {
  std::mt19937 rng(0);
  for (const GemmShape& s : ignis::bench::gemm_shapes()) {
    if (s.name.find(filter) == std::string::npos) continue;
    Operands o = make_operands(s, rng);
    const auto call = [&] { ignis_side ? run_ignis(s, o) : run_openblas(s, o); };
    call();  // warm-up: packing buffers, threads
    const int64_t reps = calls_per_run(s);
    std::vector<double> g;
    for (int r = 0; r < runs; ++r) g.push_back(gflops(s, reps, cpu_clock, call));
    std::printf("%s %.2f\n", s.name.c_str(), median(g));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = ignis::get_num_threads();
  int runs = 7;
  std::string filter;
  bool cpu_clock = false;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--filter") == 0) filter = argv[i + 1];
    else if (std::strcmp(argv[i], "--clock") == 0) cpu_clock = std::strcmp(argv[i + 1], "cpu") == 0;
    else if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  const bool valid_only = only.empty() || only == "ignis" || only == "openblas";
  if (threads < 1 || runs < (only.empty() ? 5 : 1) || (cpu_clock && threads != 1) ||
      !valid_only) {
    std::fprintf(stderr, "usage: gemm_vs_openblas [--threads N>=1] [--runs R>=5] "
                         "[--filter TEXT] [--clock wall|cpu (cpu: one thread only)] "
                         "[--only ignis|openblas (then R >= 1)]\n");
    return 2;
  }
  ignis::set_num_threads(threads);
  // Not with `--only ignis`: setting the count starts OpenBLAS's workers, which then spin.
  if (only != "ignis") openblas_set_num_threads(threads);
  if (!only.empty()) return time_one_library(only == "ignis", runs, filter, cpu_clock);

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const char* l2 = std::getenv("OPENBLAS_L2_SIZE");
  std::printf("SGEMM, row-major, alpha=1 beta=0; %d thread(s); median of %d interleaved runs; "
              "%s time\n",
              threads, runs, cpu_clock ? "thread CPU" : "wall-clock");
  std::printf("ignis kernel: %s; OpenBLAS kernel: %s (%d thread(s); OPENBLAS_CORETYPE=%s, "
              "OPENBLAS_L2_SIZE=%s)\n\n",
              ignis::cpu::gemm_isa_name(ignis::cpu::gemm_isa()), openblas_get_corename(),
              openblas_get_num_threads(), coretype != nullptr ? coretype : "unset",
              l2 != nullptr ? l2 : "unset");
  std::printf("FMA peak probe: %s, %d thread(s), measured in every run beside the GEMMs\n\n",
              ignis::bench::fma_probe_isa(), threads);
  std::printf("%-18s %5s %5s %5s %2s  %8s %8s %7s  %8s %6s %6s  %7s\n", "shape", "M", "N", "K",
              "op", "ignis", "OpenBLAS", "ratio", "FMA peak", "ignis", "OB", "rel.diff");
  std::printf("%-18s %5s %5s %5s %2s  %8s %8s %7s  %8s %6s %6s  %7s\n", "", "", "", "", "",
              "GFLOP/s", "GFLOP/s", "ours/OB", "GFLOP/s", "%peak", "%peak", "");

  const bool have_peak = ignis::bench::fma_probe_lanes() > 0;
  Worst squares, mlp;
  double peak_1024 = 0.0, ours_1024 = 0.0;
  std::mt19937 rng(0);
  for (const GemmShape& s : ignis::bench::gemm_shapes()) {
    if (s.name.find(filter) == std::string::npos) continue;
    Operands o = make_operands(s, rng);
    const double diff = relative_difference(s, o);  // also the warm-up of both
    const int64_t reps = calls_per_run(s);
    std::vector<double> ours, theirs, peak;
    for (int r = 0; r < runs; ++r) {
      ours.push_back(gflops(s, reps, cpu_clock, [&] { run_ignis(s, o); }));
      theirs.push_back(gflops(s, reps, cpu_clock, [&] { run_openblas(s, o); }));
      if (have_peak) peak.push_back(fma_peak(threads, cpu_clock));
    }
    const double g_ours = median(ours), g_theirs = median(theirs);
    const double g_peak = have_peak ? median(peak) : 0.0;
    const double ratio = g_ours / g_theirs;
    const char op[3] = {s.trans_a ? 'T' : 'N', s.trans_b ? 'T' : 'N', '\0'};
    std::printf("%-18s %5ld %5ld %5ld %2s  %8.1f %8.1f %7.2f  %8.1f %6.1f %6.1f  %7.1e\n",
                s.name.c_str(), static_cast<long>(s.m), static_cast<long>(s.n),
                static_cast<long>(s.k), op, g_ours, g_theirs, ratio, g_peak,
                have_peak ? 100.0 * g_ours / g_peak : 0.0,
                have_peak ? 100.0 * g_theirs / g_peak : 0.0, diff);
    std::fflush(stdout);
    if (s.name.rfind("square_", 0) == 0 && s.m >= 256) squares.add(ratio, s.name);
    if (s.name.rfind("mlp_", 0) == 0) mlp.add(ratio, s.name);
    if (s.name == "square_1024") peak_1024 = g_peak, ours_1024 = g_ours;
  }

  // The requirements of docs/performance.md, each with the numbers it rests on.
  std::printf("\n");
  const auto ratio_verdict = [](const char* what, const Worst& w) {
    if (w.shape.empty()) return;
    std::printf("%s: ignis >= 1.00x OpenBLAS on every shape: %s (lowest %.2fx, %s)\n", what,
                w.ratio >= 1.0 ? "PASS" : "FAIL", w.ratio, w.shape.c_str());
  };
  ratio_verdict("square 256-2048", squares);
  ratio_verdict("MLP shapes", mlp);
  if (threads > 1) {
    std::printf("(%d threads in one process: OpenBLAS's workers spin for a while after each call "
                "and share the vCPUs with whatever runs next, the FMA probe included; "
                "bench/gemm_two_processes.sh times each library in a process of its own)\n",
                threads);
  }
  if (peak_1024 > 0.0 && threads == 1) {
    const double fraction = ours_1024 / peak_1024;
    std::printf("square_1024: ignis >= 85%% of the FMA peak: %s (%.1f%%: %.1f of %.1f GFLOP/s)\n",
                fraction >= 0.85 ? "PASS" : "FAIL", 100.0 * fraction, ours_1024, peak_1024);
  }
  return 0;
}
