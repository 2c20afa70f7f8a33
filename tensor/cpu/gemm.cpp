// cpu::gemm: batched float32/float64 GEMM on the CPU (the GemmArgs contract of tensor/linalg.h):
// kernel choice by CPU feature, threading, pack buffers. The loop nest is in gemm_kernel.h.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/gemm_kernel.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/scalar_ops.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

using gemm_detail::Epilogue;
using gemm_detail::KernelConfig;
using gemm_detail::Problem;

// Register tiles and cache blocks per instruction set (KernelConfig<T, lanes, MR, NV, KC, MC,
// NC>, NR = NV * lanes). AVX-512 keeps 28 of the 32 zmm registers as accumulators; AVX2 12
// of 16 ymm; the portable kernel relies on the compiler's lowering of 16-byte vectors.
// The float AVX-512 blocks were measured on Zen 5 (KC 128..1024, MC 14..336, NC 1024..4096:
// KC = 512 with a small MC was best; MC = 28 against 56: 2048^2 238 / 222 GFLOP/s, 1024^2
// 235 / 230, 512^2 within noise, one thread); the others are scaled from it, untuned.
template <typename T>
struct Configs;
template <>
struct Configs<float> {
  using Avx512 = KernelConfig<float, 16, 14, 2, 512, 28, 2048>;
  using Avx2 = KernelConfig<float, 8, 6, 2, 256, 72, 2048>;
  using Portable = KernelConfig<float, 4, 4, 2, 256, 128, 1024>;
};
template <>
struct Configs<double> {
  using Avx512 = KernelConfig<double, 8, 14, 2, 256, 56, 1024>;
  using Avx2 = KernelConfig<double, 4, 6, 2, 256, 72, 1024>;
  using Portable = KernelConfig<double, 2, 4, 2, 256, 64, 512>;
};

// The same loop nest compiled for each instruction set: these wrappers differ only in their
// target attribute, which is what makes GCC emit zmm / ymm code for the inlined body.
#if defined(__x86_64__) || defined(__i386__)
template <class K>
__attribute__((target("avx512f,fma"))) void run_avx512(const Problem<typename K::T>& pr,
                                                       bool direct_a, typename K::T* pack_a,
                                                       typename K::T* pack_b) {
  gemm_detail::gemm_blocked<K>(pr, direct_a, pack_a, pack_b);
}
template <class K>
__attribute__((target("avx2,fma"))) void run_avx2(const Problem<typename K::T>& pr,
                                                  bool direct_a, typename K::T* pack_a,
                                                  typename K::T* pack_b) {
  gemm_detail::gemm_blocked<K>(pr, direct_a, pack_a, pack_b);
}
template <class K, int DM, int DN>
__attribute__((target("avx512f,fma"))) void run_dot_avx512(const Problem<typename K::T>& pr) {
  gemm_detail::gemm_dot<K, DM, DN>(pr);
}
template <class K, int DM, int DN>
__attribute__((target("avx2,fma"))) void run_dot_avx2(const Problem<typename K::T>& pr) {
  gemm_detail::gemm_dot<K, DM, DN>(pr);
}
template <class K, int KK>
__attribute__((target("avx512f,fma"))) void run_short_k_avx512(
    const Problem<typename K::T>& pr) {
  if (pr.a_ks == 1) {
    gemm_detail::gemm_short_k<K, KK, true>(pr);
  } else {
    gemm_detail::gemm_short_k<K, KK, false>(pr);
  }
}
#endif
template <class K>
void run_portable(const Problem<typename K::T>& pr, bool direct_a, typename K::T* pack_a,
                  typename K::T* pack_b) {
  gemm_detail::gemm_blocked<K>(pr, direct_a, pack_a, pack_b);
}
template <class K, int DM, int DN>
void run_dot_portable(const Problem<typename K::T>& pr) {
  gemm_detail::gemm_dot<K, DM, DN>(pr);
}

// The short-k kernel (gemm_short_k) for every k from 1 to kShortMaxK, indexed by k (entry 0
// unused).
template <typename T>
using ShortKTable = std::array<void (*)(const Problem<T>&), gemm_detail::kShortMaxK + 1>;

#if defined(__x86_64__) || defined(__i386__)
template <class K, size_t... KK>
constexpr ShortKTable<typename K::T> make_short_k_avx512(std::index_sequence<KK...>) {
  return {nullptr, &run_short_k_avx512<K, KK + 1>...};
}
template <class K>
constexpr ShortKTable<typename K::T> kShortKAvx512 =
    make_short_k_avx512<K>(std::make_index_sequence<gemm_detail::kShortMaxK>());
#endif

// One kernel configuration, type-erased once per call: the blocked kernel, the small-matrix
// dot kernel (gemm_dot, tiles of dot_mr x dot_nr) and the short-k kernels, where the
// instruction set has them (null otherwise).
template <typename T>
struct Backend {
  void (*run)(const Problem<T>&, bool, T*, T*);
  int64_t mr, nr;
  int64_t pack_a_elems, pack_b_elems;
  void (*run_dot)(const Problem<T>&);
  int64_t dot_mr, dot_nr;
  const ShortKTable<T>* short_k;
  int64_t short_nr;
};

// gemm_dot's tile: 4 x 6 accumulators + 6 B vectors + 1 A vector fit AVX-512's 32 registers;
// 2 x 4 (+ 4 + 1) fit the 16 of AVX2 and the portable kernel.
// The short-k kernels keep B's (k, NR) block in registers: only AVX-512 has enough (32) for
// k up to kShortMaxK; AVX2 and the portable kernel (16) keep the blocked kernel.
template <class K, int DM, int DN>
Backend<typename K::T> make_backend(void (*run)(const Problem<typename K::T>&, bool,
                                                typename K::T*, typename K::T*),
                                    void (*run_dot)(const Problem<typename K::T>&),
                                    const ShortKTable<typename K::T>* short_k = nullptr) {
  return {run, K::MR, K::NR, gemm_detail::kDirectMcFactor * K::MC * K::KC + K::L,
          K::KC * K::NC + K::L, run_dot, DM, DN, short_k, gemm_detail::short_k_width<K>()};
}

template <typename T>
Backend<T> backend([[maybe_unused]] GemmIsa isa) {
  using C = Configs<T>;
#if defined(__x86_64__) || defined(__i386__)
  using Avx512 = typename C::Avx512;
  using Avx2 = typename C::Avx2;
  switch (isa) {
    case GemmIsa::Avx512:
      return make_backend<Avx512, 4, 6>(&run_avx512<Avx512>, &run_dot_avx512<Avx512, 4, 6>,
                                        &kShortKAvx512<Avx512>);
    case GemmIsa::Avx2:
      return make_backend<Avx2, 2, 4>(&run_avx2<Avx2>, &run_dot_avx2<Avx2, 2, 4>);
    case GemmIsa::Portable: break;
  }
#endif
  using Portable = typename C::Portable;
  return make_backend<Portable, 2, 4>(&run_portable<Portable>,
                                      &run_dot_portable<Portable, 2, 4>);
}

GemmIsa best_isa() {
  if (gemm_isa_supported(GemmIsa::Avx512)) return GemmIsa::Avx512;
  if (gemm_isa_supported(GemmIsa::Avx2)) return GemmIsa::Avx2;
  return GemmIsa::Portable;
}

std::atomic<GemmIsa>& current_isa() {
  static std::atomic<GemmIsa> isa{best_isa()};
  return isa;
}

// A 64-byte aligned scratch buffer that only grows: one per thread and operand, so packing
// allocates only on a thread's first (or first larger) GEMM.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  template <typename T>
  T* get(int64_t elems) {
    const size_t bytes = (static_cast<size_t>(elems) * sizeof(T) + 63) / 64 * 64;
    if (bytes > bytes_) {
      std::free(data_);
      data_ = std::aligned_alloc(64, bytes);
      bytes_ = data_ != nullptr ? bytes : 0;
      if (data_ == nullptr) throw std::bad_alloc();
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

thread_local PackBuffer t_pack_a;
thread_local PackBuffer t_pack_b;

// Below this many multiply-adds (all batches together) a GEMM runs on the calling thread:
// handing work to the pool costs more than it saves. Measured on 2 time-sliced vCPUs: with
// parked workers, waking one added 7.5 us (median) to the call, and the 32 x 64 x 784 and
// 64 x 784 x 32 GEMMs of a small MLP step (1.6M) ran slower on two threads, so the bound was
// 2^22. Since idle workers poll before parking (thread_pool.cpp), 128^3 (2^21) runs at 376-386
// GFLOP/s on two threads against 242 on one; those MLP-step GEMMs stay below the bound.
constexpr int64_t kParallelMinWork = int64_t{1} << 21;

// The dot kernel serves A and B contiguous along k when m or n is at most kDotMaxSide and k
// at least kDotMinK. Measured on Zen 5 (AVX-512), one thread: 32 x 10 x 64 ran at 47 GFLOP/s
// against 39 blocked, 128 x 10 x 256 at 82 against 72; but 32 x 64 x 784 at 100 against 138,
// so the blocked kernel keeps sides of more than 16 (its edge tiles cost less there).
constexpr int64_t kDotMaxSide = 16;
constexpr int64_t kDotMinK = 32;

// The blocked kernel reads A in place, unpacked, when A's rows are contiguous along k and C
// has at most this many NR-wide column panels (each reuses a packed copy of A once). Measured
// on Zen 5 (AVX-512, one thread, GFLOP/s, in place against packed): 128 x 512 x 784 NT 209 /
// 204, 128 x 256 x 512 NT 218 / 206, 128 x 256 x 10 NN 218 / 195; but 128 x 784 x 512 NN
// (25 panels) 227 / 237. Transposed A (a_rs == 1) stays packed: 512 x 784 x 128 TN ran at
// 219 in place against 243 packed.
constexpr int64_t kDirectAMaxPanels = 16;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// F applied in place to the (rows, cols) piece of C at c: the activation epilogue, run by
// the kernels on each piece of C they have finished, while it is in L1. Rows are short (an
// NR = 32-wide panel), so each goes by whole cache lines, a fixed-size loop that GCC turns
// into whole vectors with no per-row set-up (a loop of run-time length over 32 floats spent
// more on its prologue than on the activation: 128 x 784 x 512 + ReLU took 1.3% over the
// GEMM alone), then the rest one by one. The functor is the elementwise kernels' own, so a
// fused activation gives the values of the separate pass bit for bit.
template <typename T, typename F>
void activation_epilogue(T* c, int64_t ldc, int64_t rows, int64_t cols) {
  constexpr int64_t kLine = 64 / sizeof(T);
  const F f{};
  for (int64_t i = 0; i < rows; ++i) {
    T* row = c + i * ldc;
    int64_t j = 0;
    for (; j + kLine <= cols; j += kLine) {
#pragma GCC unroll 16
      for (int64_t l = 0; l < kLine; ++l) row[j + l] = f(row[j + l]);
    }
    for (; j < cols; ++j) row[j] = f(row[j]);
  }
}

template <typename T>
Epilogue<T> epilogue_for(Activation activation) {
  switch (activation) {
    case Activation::Relu: return &activation_epilogue<T, scalar_ops::Relu>;
    case Activation::Tanh: return &activation_epilogue<T, scalar_ops::Tanh>;
    case Activation::Sigmoid: return &activation_epilogue<T, scalar_ops::Sigmoid>;
    case Activation::None: break;
  }
  return nullptr;
}

// C[b] = epilogue(beta * C[b]) for every batch; beta == 0 writes zeros without reading C.
template <typename T>
void scale_c(const GemmArgs& g, T beta, Epilogue<T> epilogue) {
  T* c = static_cast<T*>(g.c);
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t i = 0; i < g.m; ++i) {
      T* row = c + b * g.stride_c + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
    }
    if (epilogue != nullptr) epilogue(c + b * g.stride_c, g.ldc, g.m, g.n);
  }
}

template <typename T>
void gemm_typed(const GemmArgs& g) {
  const T alpha = static_cast<T>(g.alpha);
  const T beta = static_cast<T>(g.beta);
  const Epilogue<T> epilogue = epilogue_for<T>(g.epilogue);
  if (g.k == 0 || alpha == T(0)) {
    scale_c<T>(g, beta, epilogue);
    return;
  }
  const Backend<T> be = backend<T>(current_isa().load(std::memory_order_relaxed));

  // op(A)[i][p] = a[i * a_rs + p * a_ks], op(B)[p][j] = b[j * b_cs + p * b_ks].
  const int64_t a_rs = g.trans_a ? 1 : g.lda, a_ks = g.trans_a ? g.lda : 1;
  const int64_t b_cs = g.trans_b ? g.ldb : 1, b_ks = g.trans_b ? 1 : g.ldb;

  // Both operands contiguous along k and one side small: the dot kernel, which packs nothing
  // and wastes no lanes on a thin edge (NR = 32 columns of the blocked kernel for n = 10).
  // The choice depends on the shape and layout only, never on the thread count.
  const bool dot =
      a_ks == 1 && b_ks == 1 && std::min(g.m, g.n) <= kDotMaxSide && g.k >= kDotMinK;
  // B row-major, k at most kShortMaxK and at least one full column block: the short-k
  // kernel, B's block in registers; the last n % short_nr columns go to the blocked kernel.
  void (*const run_short)(const Problem<T>&) =
      be.short_k != nullptr && b_cs == 1 && g.k <= gemm_detail::kShortMaxK && g.n >= be.short_nr
          ? (*be.short_k)[static_cast<size_t>(g.k)]
          : nullptr;
  const bool short_k = run_short != nullptr;
  const bool packs = !dot && (!short_k || g.n % be.short_nr != 0);
  const int64_t mr = dot ? be.dot_mr : short_k ? gemm_detail::kShortRows : be.mr;
  const int64_t nr = dot ? be.dot_nr : short_k ? be.short_nr : be.nr;

  // Threads take whole batches, or disjoint slices of each C along m or n in units of
  // register tiles: each element of C is computed by one thread, in the same order for any
  // thread count. The split is along whichever dimension gives the largest slice the fewest
  // elements of C (256 x 256 in two: 128 columns each, rather than 140 and 116 rows); on a
  // tie along n, where each thread packs only its own columns of B (split along m, every
  // thread packed all of B: two threads ran 1024^3 at 469 GFLOP/s against 489 along n, and
  // 256^3 at 477 against 500).
  const int64_t threads = get_num_threads();
  const bool parallel = threads > 1 && g.m * g.n * g.k * g.batch >= kParallelMinWork;
  const int64_t want = parallel && g.batch < threads ? ceil_div(threads, g.batch) : 1;
  const int64_t m_panels = ceil_div(g.m, mr), n_panels = ceil_div(g.n, nr);
  const int64_t m_parts = std::min(m_panels, want), n_parts = std::min(n_panels, want);
  const int64_t m_largest = std::min(g.m, ceil_div(m_panels, m_parts) * mr) * g.n;
  const int64_t n_largest = std::min(g.n, ceil_div(n_panels, n_parts) * nr) * g.m;
  const bool split_n = n_largest <= m_largest;
  const int64_t panels = split_n ? n_panels : m_panels;
  const int64_t parts = split_n ? n_parts : m_parts;
  const int64_t units = g.batch * parts;
  // A read in place (a_ks == 1: rows contiguous along k) when few column panels would reuse
  // its packed copy; see kDirectAMaxPanels.
  const bool direct_a = packs && a_ks == 1 && ceil_div(g.n, be.nr) <= kDirectAMaxPanels;

  auto run_units = [&](int64_t begin, int64_t end) {
    T* pack_a = packs ? t_pack_a.get<T>(be.pack_a_elems) : nullptr;
    T* pack_b = packs ? t_pack_b.get<T>(be.pack_b_elems) : nullptr;
    for (int64_t u = begin; u < end; ++u) {
      const int64_t b = u / parts, part = u % parts;
      Problem<T> pr{g.m, g.n, g.k, alpha, beta,
                    static_cast<const T*>(g.a) + b * g.stride_a, a_rs, a_ks,
                    static_cast<const T*>(g.b) + b * g.stride_b, b_cs, b_ks,
                    static_cast<T*>(g.c) + b * g.stride_c, g.ldc, epilogue};
      const int64_t first = part * panels / parts, last = (part + 1) * panels / parts;
      if (split_n) {
        const int64_t j0 = first * nr;
        pr.n = std::min(g.n, last * nr) - j0;
        pr.b += j0 * b_cs;
        pr.c += j0;
      } else {
        const int64_t i0 = first * mr;
        pr.m = std::min(g.m, last * mr) - i0;
        pr.a += i0 * a_rs;
        pr.c += i0 * g.ldc;
      }
      if (dot) {
        be.run_dot(pr);
      } else if (short_k) {  // whole column blocks; a slice may hold only the narrow last
        Problem<T> tail = pr;
        pr.n = pr.n / nr * nr;
        if (pr.n > 0) run_short(pr);
        tail.n -= pr.n;
        tail.b += pr.n;
        tail.c += pr.n;
        if (tail.n > 0) be.run(tail, direct_a, pack_a, pack_b);
      } else {
        be.run(pr, direct_a, pack_a, pack_b);
      }
    }
  };
  if (parallel && units > 1) {
    parallel_for(0, units, 1, run_units);
  } else {
    run_units(0, units);
  }
}

}  // namespace

const char* gemm_isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::Avx512: return "avx512";
    case GemmIsa::Avx2: return "avx2";
    case GemmIsa::Portable: break;
  }
  return "portable";
}

bool gemm_isa_supported(GemmIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case GemmIsa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case GemmIsa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GemmIsa::Portable: break;
  }
#endif
  return isa == GemmIsa::Portable;
}

GemmIsa gemm_isa() { return current_isa().load(std::memory_order_relaxed); }

void set_gemm_isa(GemmIsa isa) {
  if (!gemm_isa_supported(isa))
    throw ValueError(std::string("set_gemm_isa: this CPU cannot run the ") +
                     gemm_isa_name(isa) + " kernel");
  current_isa().store(isa, std::memory_order_relaxed);
}

void gemm(const GemmArgs& args) {
  if (args.m == 0 || args.n == 0 || args.batch == 0) return;
  visit_floating(args.dtype, "gemm", [&]<typename T>() { gemm_typed<T>(args); });
}

}  // namespace ignis::cpu
