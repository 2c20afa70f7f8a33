// The blocked GEMM loop nest, operand packing and register-blocked micro-kernel, written
// once over GCC vector types and instantiated per instruction set by gemm.cpp. Private to
// tensor/cpu/gemm.cpp: no dispatch, no threading, no argument checks here.
//
// Glossary (BLIS/GotoBLAS): C (m, n) += op(A) (m, k) @ op(B) (k, n), row-major.
//   MR x NR  the register tile of C one micro-kernel call computes (NR = NV vectors of L lanes)
//   KC       the depth of one packed block: C is read and written once per KC of k
//   MC       rows of A packed per block: (MC, KC) stays in L2
//   NC       columns of B packed per block: (KC, NC) stays in L2/L3
// Loop order: jc (NC) > pc (KC, pack B) > ic (MC, pack A) > jr (NR) > ir (MR) > micro-kernel.
// Packed A: MR-row panels, each (KC, MR) with the MR values of one k adjacent.
// Packed B: NR-column panels, each (KC, NR) with the NR values of one k adjacent.
// B's full panels, when B is row-major, are not packed in a pass of their own: the first row of
// tiles of each block reads them in place and stores the copy it has loaded (the reads of
// packing come free with the multiply-adds, and the copy is warm for the next rows).
// Edge panels are zero-padded. An edge tile runs the smallest kernel that covers it (an even
// number of rows and/or one vector of columns) and, unless it fits exactly, goes through a
// temporary tile of which only the valid part is written to C. Skinny problems skip packing:
// B (row-major, m <= kDirectBMaxRows) and A (rows along k, few column panels) can be read in
// place by the same micro-kernel.
// A short k (<= kShortMaxK) with B row-major takes gemm_short_k instead, which holds a block
// of B in registers and packs nothing.
// Epilogue: every path hands each piece of C it has finished (all k terms and beta in: an
// (mc, NR) column panel of a block, a dot tile, a short-k row chunk) to Problem::epilogue
// while the piece is still in L1: a fused activation reads C from L1, not from memory.
//
// NOTE: every function here is always_inline and takes vectors only through pointers: they are
// compiled inside the target("avx512f") / target("avx2") wrappers of gemm.cpp, never on their
// own, so one source serves every instruction set (the fused multiply-adds come from GCC's
// floating-point contraction of `acc += s * b`, on by default in C++).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace ignis::cpu::gemm_detail {

// A SIMD vector of N lanes of T (GCC vector extension), aligned and unaligned variants;
// may_alias because kernels load and store them through T pointers.
template <typename T, int N>
using Vec __attribute__((vector_size(N * sizeof(T)), may_alias)) = T;
template <typename T, int N>
using VecUnaligned
    __attribute__((vector_size(N * sizeof(T)), aligned(sizeof(T)), may_alias)) = T;

// One kernel configuration: element type, vector lanes, register tile and cache blocks.
template <typename T_, int Lanes, int MR_, int NV_, int KC_, int MC_, int NC_>
struct KernelConfig {
  using T = T_;
  static constexpr int L = Lanes;
  static constexpr int MR = MR_;
  static constexpr int NV = NV_;
  static constexpr int NR = NV_ * Lanes;
  static constexpr int64_t KC = KC_;
  static constexpr int64_t MC = MC_;  // a multiple of MR
  static constexpr int64_t NC = NC_;  // a multiple of NR
  static_assert(MC_ % MR_ == 0 && NC_ % (NV_ * Lanes) == 0);
};

// B's rows contiguous along n (b_cs == 1) and m at most this: the micro-kernel reads B's
// full NR-wide panels in place, rows b_ks apart, instead of packing them. A packed panel of B
// pays off over the ceil(m / MR) tiles that reuse it; for a few tiles its copy costs more
// than the strided reads it saves. Measured on Zen 5 (AVX-512, one thread, GFLOP/s, in place
// against packed): 10 x 256 x 128 TN 225 / 143, 64 x 784 x 32 TN 241 / 222, 128^2 NN 214 /
// 206, 256^2 NN 238 / 228; 512^2 and up stay packed.
inline constexpr int64_t kDirectBMaxRows = 256;

// Row blocks are this many times MC when A or B is read in place (see gemm_blocked); pack
// buffers for A hold kDirectMcFactor * MC rows.
inline constexpr int64_t kDirectMcFactor = 2;

// C tiles are prefetched one tile ahead only when kc is at least this: with a short k the
// prefetches cost more load slots than the misses they hide (128 x 256 x 10 NN: 225 GFLOP/s
// without, 202 with; 2048^2: 234 with, 223 without; Zen 5, one thread).
inline constexpr int64_t kPrefetchCMinK = 128;

// How many rows of B ahead the micro-kernel that copies B (StoreB) prefetches them.
inline constexpr int64_t kPrefetchBRows = 32;

// The epilogue of a GEMM: applied in place to a finished (rows, cols) piece of C at c (row
// stride ldc), once per element of C. Null for none.
template <typename T>
using Epilogue = void (*)(T* c, int64_t ldc, int64_t rows, int64_t cols);

// One GEMM C = epilogue(alpha * op(A) @ op(B) + beta * C) on a single matrix, operands
// addressed by strides: op(A)[i][p] = a[i * a_rs + p * a_ks], op(B)[p][j] = b[j * b_cs + p *
// b_ks].
template <typename T>
struct Problem {
  int64_t m, n, k;
  T alpha, beta;
  const T* a; int64_t a_rs, a_ks;
  const T* b; int64_t b_cs, b_ks;
  T* c; int64_t ldc;
  Epilogue<T> epilogue = nullptr;
};

// The two shuffle masks of each level h of transpose_block, in memory: built in registers,
// GCC materialised every mask with masked broadcasts inside the packing loop.
template <typename Index, int L>
struct TransposeMasks {
  // lo[k] and hi[k] for the level h = L >> (k + 1).
  alignas(64) Index lo[8][L];
  alignas(64) Index hi[8][L];
  constexpr TransposeMasks() : lo{}, hi{} {
    int k = 0;
    for (int h = L / 2; h >= 1; h /= 2, ++k) {
      for (int j = 0; j < L; ++j) {
        lo[k][j] = (j & h) != 0 ? L + j - h : j;
        hi[k][j] = (j & h) != 0 ? L + j : j + h;
      }
    }
  }
};
template <typename Index, int L>
inline constexpr TransposeMasks<Index, L> kTransposeMasks{};

// Transposes the L x L block held in r[0..L): r[i][j] <- r[j][i]. Recursive block swap:
// at each level h, the top-right and bottom-left h x h blocks trade places.
template <typename T, int L>
[[gnu::always_inline]] inline void transpose_block(Vec<T, L>* r) {
  using Index = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  using Mask = Vec<Index, L>;
  const TransposeMasks<Index, L>& masks = kTransposeMasks<Index, L>;
  int k = 0;
#pragma GCC unroll 8
  for (int h = L / 2; h >= 1; h /= 2, ++k) {
    const Mask lo = *reinterpret_cast<const Mask*>(masks.lo[k]);
    const Mask hi = *reinterpret_cast<const Mask*>(masks.hi[k]);
#pragma GCC unroll 16
    for (int i = 0; i < L; ++i) {
      if ((i & h) != 0) continue;
      const Vec<T, L> a = r[i], b = r[i + h];
      r[i] = __builtin_shuffle(a, b, lo);
      r[i + h] = __builtin_shuffle(a, b, hi);
    }
  }
}

// dst (kc, W) = the W-wide panel of src, src[w * ws + p * ks] for w < width, zeros beyond.
// NOTE: may write up to L - 1 elements past the panel's end when W is not a multiple of L
// (pack buffers carry that much slack); they belong to the next panel or to nothing.
template <typename T, int W, int L>
[[gnu::always_inline]] inline void pack_panel(const T* src, int64_t ws, int64_t ks, int width,
                                              int64_t kc, T* __restrict dst) {
  if (ws == 1 && width == W) {  // the W values of one k are adjacent: fixed-size copies
    for (int64_t p = 0; p < kc; ++p)
      for (int w = 0; w < W; ++w) dst[p * W + w] = src[p * ks + w];
    return;
  }
  if (ws == 1) {
    for (int64_t p = 0; p < kc; ++p) {
      const T* s = src + p * ks;
      T* d = dst + p * W;
      // One loop of fixed length W, not a copy of `width` and a fill of the rest: GCC turned
      // those into a call to memmove and one to memset for every k (10 x 256 x 128 TN, whose
      // A is one such panel: 219 -> 233 GFLOP/s, Zen 5, one thread).
#pragma GCC unroll 16
      for (int w = 0; w < W; ++w) d[w] = w < width ? s[w] : T(0);
    }
    return;
  }
  int64_t p0 = 0;
  if (ks == 1) {
    // Each panel line is contiguous along k: load L k-values of every line (zeros past
    // `width`), transpose L x L blocks in registers, store L rows of W values. One group of
    // L lines at a time, so that only L vectors are live (G groups at once spill).
    // NOTE: with W % L != 0 the last group's store of each row spills into the start of the
    // next row, the first group's place: groups go last to first, so that the first group's
    // stores come later and overwrite the spill.
    using V = Vec<T, L>;
    using VU = VecUnaligned<T, L>;
    constexpr int G = (W + L - 1) / L;
    for (; p0 + L <= kc; p0 += L) {
#pragma GCC unroll 4
      for (int g = G - 1; g >= 0; --g) {
        V r[L];
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i) {
          const int w = g * L + i;
          r[i] = w < width ? V(*reinterpret_cast<const VU*>(src + w * ws + p0)) : V{};
        }
        transpose_block<T, L>(r);
#pragma GCC unroll 16
        for (int q = 0; q < L; ++q) *reinterpret_cast<VU*>(dst + (p0 + q) * W + g * L) = r[q];
      }
    }
  }
  for (int w = 0; w < width; ++w) {  // the k tail, or a strided panel
    const T* s = src + w * ws;
    for (int64_t p = p0; p < kc; ++p) dst[p * W + w] = s[p * ks];
  }
  for (int w = width; w < W; ++w)
    for (int64_t p = p0; p < kc; ++p) dst[p * W + w] = T(0);
}

// Where a micro-kernel reads A: op(A)[i][p] = a[p * ps + i * is] for the tile's rows i and
// depths p. Packed, a (kc, MR) panel: ps = MR, is = 1. In place, rows contiguous along k
// (a_ks == 1): ps = 1, is = the row stride. Only `is` varies at run time.
template <typename T>
struct ATile {
  const T* a;
  int64_t is;
};

// C tile (RM, RV * L) at c (row stride ldc) = alpha * acc + beta * C tile; beta == 0 does
// not read C. alpha == 1 (every GEMM of a layer) skips a multiply per accumulator, and beta
// == 0 or 1 (the first and later k blocks) the read or the multiply of C: with a short k
// these are a good part of a tile's work.
template <typename T, int L, int RM, int RV>
[[gnu::always_inline]] inline void store_tile(Vec<T, L> (&acc)[RM][RV], T* c, int64_t ldc,
                                              T alpha, T beta) {
  using VU = VecUnaligned<T, L>;
  if (alpha != T(1)) {
#pragma GCC unroll 16
    for (int i = 0; i < RM; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < RV; ++j) acc[i][j] *= alpha;
  }
#pragma GCC unroll 16
  for (int i = 0; i < RM; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < RV; ++j) {
      VU* cv = reinterpret_cast<VU*>(c + i * ldc + j * L);
      if (beta == T(0)) {
        *cv = acc[i][j];
      } else if (beta == T(1)) {
        *cv = acc[i][j] + *cv;
      } else {
        *cv = acc[i][j] + beta * *cv;
      }
    }
  }
}

// C tile (RM, RV * L) at c (row stride ldc) = alpha * A tile @ pb + beta * C tile; beta == 0
// does not read C. A: the packed panel (DirectA false: at.is is ignored) or A read in place
// (DirectA true). pb: B panel (kc, NR) with
// rows bs apart, packed (bs = NR) or read in place from a row-major B (bs = its leading dim).
// RM <= MR rows and RV <= NV vectors: a full tile, or the smaller tiles used at the edges.
// StoreB: also stores the B values it loads to pb_out as a packed (kc, NR) panel (64-byte
// aligned), the copy that pack_panel would make: two vector stores per k beside RM * RV
// multiply-adds.
template <class K, int RM, int RV, bool DirectA, bool StoreB = false>
[[gnu::always_inline]] inline void micro_kernel(int64_t kc, ATile<typename K::T> at,
                                                const typename K::T* __restrict pb, int64_t bs,
                                                typename K::T* c, int64_t ldc,
                                                typename K::T alpha, typename K::T beta,
                                                typename K::T* __restrict pb_out = nullptr) {
  using T = typename K::T;
  using V = Vec<T, K::L>;
  using VU = VecUnaligned<T, K::L>;
  constexpr int L = K::L;
  constexpr int64_t a_ps = K::MR;  // packed A: constant, one register less in the loop
  const int64_t a_is = DirectA ? at.is : 1;
  const T* __restrict pa = at.a;

  // NOTE: hides c's relation to the caller's loop counters; otherwise GCC keeps one
  // induction variable per row of every inlined tile, spilled to the stack, and a short k
  // loop pays more for updating them than for its multiply-adds.
  __asm__("" : "+r"(c));
  // A read in place: row i at row_base[i / 3] + (i % 3) * a_is, each base stepping along k,
  // so that every row is one base register plus a_is scaled by 0, 4 or 8 bytes (x86
  // addressing), and RM rows need (RM + 2) / 3 registers; with RM offsets GCC reloaded 13 of
  // them from the stack at every k.
  constexpr int G = DirectA ? (RM + 2) / 3 : 1;
  const T* row_base[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) row_base[g] = pa + 3 * g * a_is;
  V acc[RM][RV] = {};
  for (int64_t p = 0; p < kc; ++p) {
    V b[RV];
#pragma GCC unroll 8
    for (int j = 0; j < RV; ++j) b[j] = *reinterpret_cast<const VU*>(pb + p * bs + j * L);
    if constexpr (StoreB) {
#pragma GCC unroll 8
      for (int j = 0; j < RV; ++j) *reinterpret_cast<V*>(pb_out + p * K::NR + j * L) = b[j];
      // B read in place: its rows are bs apart (4 KiB and more on large matrices, a new page
      // each), where the hardware prefetcher does not follow. Measured on Zen 5, 1024^3,
      // alternating runs: 32 rows ahead 240.7 against 234.6 GFLOP/s on one thread, 463.6
      // against 457.2 on two (64 rows ahead: less; 8 and 16: none).
      if (p + kPrefetchBRows < kc) {
#pragma GCC unroll 8
        for (int j = 0; j < RV; ++j)
          __builtin_prefetch(pb + (p + kPrefetchBRows) * bs + j * L, 0, 3);
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < RM; ++i) {
      const T a = DirectA ? row_base[i / 3][(i % 3) * a_is] : pa[p * a_ps + i];
#pragma GCC unroll 8
      for (int j = 0; j < RV; ++j) acc[i][j] += a * b[j];
    }
    if constexpr (DirectA) {
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) ++row_base[g];
    }
  }
  store_tile<T, K::L, RM, RV>(acc, c, ldc, alpha, beta);
}

// An edge tile of rows <= RM, cols <= RV * L: straight into C when it fills the smaller
// tile exactly, else through a temporary tile of which only the valid part reaches C.
template <class K, int RM, int RV, bool DirectA>
[[gnu::always_inline]] inline void edge_tile(int rows, int cols, int64_t kc,
                                             ATile<typename K::T> at, const typename K::T* pb,
                                             int64_t bs, typename K::T* c, int64_t ldc,
                                             typename K::T alpha, typename K::T beta) {
  using T = typename K::T;
  constexpr int W = RV * K::L;
  if (rows == RM && cols == W) {
    micro_kernel<K, RM, RV, DirectA>(kc, at, pb, bs, c, ldc, alpha, beta);
    return;
  }
  alignas(64) T tile[RM * W];
  micro_kernel<K, RM, RV, DirectA>(kc, at, pb, bs, tile, W, alpha, T(0));
  for (int i = 0; i < rows; ++i) {
    T* out = c + i * ldc;
    const T* in = tile + i * W;
    if (beta == T(0)) {
      std::copy(in, in + cols, out);
    } else {
      for (int j = 0; j < cols; ++j) out[j] = in[j] + beta * out[j];
    }
  }
}
// Prefetches for writing every cache line of the full MR x NR tile of C at c (lines past
// C's edge included: a prefetch never faults). Issued one tile ahead, so that the tile's write
// misses overlap the previous tile's multiply-adds.
template <class K>
[[gnu::always_inline]] inline void prefetch_tile(const typename K::T* c, int64_t ldc) {
  constexpr int kLineElems = 64 / static_cast<int>(sizeof(typename K::T));
#pragma GCC unroll 16
  for (int i = 0; i < K::MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < K::NR; j += kLineElems) __builtin_prefetch(c + i * ldc + j, 1);
}

// Runs the smallest packed edge tile, RM = 2, 4, ..., MR rows, that covers `rows`, so that a
// thin edge does not cost a full tile of multiply-adds (and an even one needs no temporary).
template <class K, int RV, int RM = 2>
[[gnu::always_inline]] inline void edge_tile_rows(int rows, int cols, int64_t kc,
                                                  const typename K::T* pa,
                                                  const typename K::T* pb, int64_t bs,
                                                  typename K::T* c, int64_t ldc,
                                                  typename K::T alpha, typename K::T beta) {
  const ATile<typename K::T> at{pa, 1};
  if constexpr (RM >= K::MR) {
    edge_tile<K, K::MR, RV, false>(rows, cols, kc, at, pb, bs, c, ldc, alpha, beta);
  } else if (rows <= RM) {
    edge_tile<K, RM, RV, false>(rows, cols, kc, at, pb, bs, c, ldc, alpha, beta);
  } else {
    edge_tile_rows<K, RV, RM + 2>(rows, cols, kc, pa, pb, bs, c, ldc, alpha, beta);
  }
}

// One block: C (mc, nc) = alpha * A (mc, kc) @ B (kc, nc) + beta * C. A's full MR-row
// panels are read in place from a_direct when its pointer is not null, else from the packed
// pa, which always holds the last panel when it has fewer than MR rows. B's full panels are
// read in place from b_direct (rows b_ks apart) when it is not null, else from the packed
// pb, which always holds the last panel when it is narrower than NR. copy_b (b_direct not
// null, mc >= MR): only the first row of tiles reads B in place, storing each full panel
// into pb as it goes; the later rows read pb. A non-null epilogue (the last k block only)
// runs on each (mc, NR) column panel once its tiles are stored.
template <class K>
[[gnu::always_inline]] inline void macro_kernel(int64_t mc, int64_t nc, int64_t kc,
                                                ATile<typename K::T> a_direct,
                                                const typename K::T* pa, typename K::T* pb,
                                                const typename K::T* b_direct, int64_t b_ks,
                                                bool copy_b, typename K::T* c, int64_t ldc,
                                                typename K::T alpha, typename K::T beta,
                                                Epilogue<typename K::T> epilogue) {
  using T = typename K::T;
  constexpr int MR = K::MR, NR = K::NR;
  // Tiles go down each NR-column panel: its (kc, NR) slice of B stays in L1 while A's
  // panels stream from L2.
  const bool prefetch = kc >= kPrefetchCMinK;
  if (prefetch) prefetch_tile<K>(c, ldc);
  for (int64_t jr = 0; jr < nc; jr += NR) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
      if (prefetch) {
        const bool last = ir + MR >= mc;
        prefetch_tile<K>(c + (last ? 0 : ir + MR) * ldc + (last ? jr + NR : jr), ldc);
      }
      const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
      const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
      const bool store_b = copy_b && ir == 0 && cols == NR;
      const bool direct = b_direct != nullptr && cols == NR && (!copy_b || store_b);
      const T* pb_panel = direct ? b_direct + jr : pb + jr * kc;
      const int64_t bs = direct ? b_ks : NR;
      const bool a_in_place = a_direct.a != nullptr && rows == MR;
      const ATile<T> packed{pa + ir * kc, 1};
      const ATile<T> in_place{a_in_place ? a_direct.a + ir * a_direct.is : nullptr, a_direct.is};
      T* c_tile = c + ir * ldc + jr;
      T* pb_out = pb + jr * kc;
      // The first row's full tiles store a packed copy of B as they read it (see copy_b).
      if (store_b && a_in_place) {
        micro_kernel<K, MR, K::NV, true, true>(kc, in_place, pb_panel, bs, c_tile, ldc, alpha,
                                               beta, pb_out);
      } else if (store_b) {
        micro_kernel<K, MR, K::NV, false, true>(kc, packed, pb_panel, bs, c_tile, ldc, alpha,
                                                beta, pb_out);
      } else if (rows == MR && cols == NR) {
        if (a_in_place) {
          micro_kernel<K, MR, K::NV, true>(kc, in_place, pb_panel, bs, c_tile, ldc, alpha,
                                           beta);
        } else {
          micro_kernel<K, MR, K::NV, false>(kc, packed, pb_panel, bs, c_tile, ldc, alpha,
                                            beta);
        }
      } else if (a_in_place && cols <= K::L) {
        edge_tile<K, MR, 1, true>(rows, cols, kc, in_place, pb_panel, bs, c_tile, ldc, alpha,
                                  beta);
      } else if (a_in_place) {
        edge_tile<K, MR, K::NV, true>(rows, cols, kc, in_place, pb_panel, bs, c_tile, ldc,
                                      alpha, beta);
      } else if (cols <= K::L) {
        edge_tile_rows<K, 1>(rows, cols, kc, packed.a, pb_panel, bs, c_tile, ldc, alpha, beta);
      } else {
        edge_tile_rows<K, K::NV>(rows, cols, kc, packed.a, pb_panel, bs, c_tile, ldc, alpha,
                                 beta);
      }
    }
    if (epilogue != nullptr) epilogue(c + jr, ldc, mc, std::min<int64_t>(NR, nc - jr));
  }
}

// The whole blocked GEMM of one problem with k > 0, serially. pack_a holds kDirectMcFactor *
// MC * KC and pack_b KC * NC elements, each plus L of slack (see pack_panel), both 64-byte
// aligned.
// Every C element accumulates its k terms in the same order whatever the blocking of m and
// n, and tiles start at multiples of MR and NR, so splitting a problem along m at multiples
// of MR (or along n at multiples of NR) gives bit-identical results. Reading A or B in place
// instead of packed changes no value either (see kDirectBMaxRows; direct_a: A's full MR-row
// panels are read in place, only a last, partial one is packed).
template <class K>
[[gnu::always_inline]] inline void gemm_blocked(const Problem<typename K::T>& pr, bool direct_a,
                                                typename K::T* pack_a, typename K::T* pack_b) {
  using T = typename K::T;
  constexpr int MR = K::MR, NR = K::NR;
  const bool direct_b = pr.b_cs == 1 && pr.m <= kDirectBMaxRows;
  // B row-major and packed: its full panels are copied by the first row of tiles of the first
  // row block (see macro_kernel), not by pack_panel. Measured on Zen 5 together with the row
  // bases of micro_kernel, 11 alternating rounds, GFLOP/s, against a pass of pack_panel and
  // 14 row offsets: 512^2 262 / 255 on one thread, 501 / 489 on two; the other squares and
  // the MLP shapes within 2%.
  const bool copy_b = pr.b_cs == 1 && !direct_b && pr.m >= MR;
  direct_a = direct_a && pr.a_ks == 1;  // the in-place micro-kernel steps k by 1
  // An operand read in place has no packed copy that stays in cache between row blocks: each
  // block reads it again, so taller blocks pay (128 x 784 x 512 NN, B in place: 235 GFLOP/s
  // with blocks of 56 rows, 219 with 28; Zen 5, one thread).
  const int64_t mc_block = direct_a || direct_b ? kDirectMcFactor * K::MC : K::MC;
  for (int64_t jc = 0; jc < pr.n; jc += K::NC) {
    const int64_t nc = std::min(K::NC, pr.n - jc);
    for (int64_t pc = 0; pc < pr.k; pc += K::KC) {
      const int64_t kc = std::min(K::KC, pr.k - pc);
      const T beta = pc == 0 ? pr.beta : T(1);
      const T* b_block = pr.b + jc * pr.b_cs + pc * pr.b_ks;
      for (int64_t jr = 0; jr < nc; jr += NR) {
        const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
        if ((direct_b || copy_b) && cols == NR) continue;
        pack_panel<T, NR, K::L>(b_block + jr * pr.b_cs, pr.b_cs, pr.b_ks, cols, kc,
                                pack_b + jr * kc);
      }
      for (int64_t ic = 0; ic < pr.m; ic += mc_block) {
        const int64_t mc = std::min(mc_block, pr.m - ic);
        const T* a_block = pr.a + ic * pr.a_rs + pc * pr.a_ks;
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
          if (direct_a && rows == MR) continue;
          pack_panel<T, MR, K::L>(a_block + ir * pr.a_rs, pr.a_rs, pr.a_ks, rows, kc,
                                  pack_a + ir * kc);
        }
        const ATile<T> a_direct{direct_a ? a_block : nullptr, pr.a_rs};
        const bool copy = copy_b && ic == 0;
        macro_kernel<K>(mc, nc, kc, a_direct, pack_a, pack_b,
                        direct_b || copy ? b_block : nullptr, pr.b_ks, copy,
                        pr.c + ic * pr.ldc + jc, pr.ldc, pr.alpha, beta,
                        pc + kc == pr.k ? pr.epilogue : nullptr);
      }
    }
  }
}

// Lane sum of v in a fixed pairwise order: at each step h = L/2, ..., 1 every lane l adds
// lane l ^ h (one shuffle and one add on the whole vector), then lane 0 holds the sum.
// The swaps are constant shuffles (__builtin_shufflevector): a mask built in a register cost
// a masked broadcast per lane group at every call.
// (Vectors through pointers: see the NOTE at the top.)
template <int H, typename V, size_t... J>
[[gnu::always_inline]] inline void add_swapped_lanes(V* v, std::index_sequence<J...>) {
  *v += __builtin_shufflevector(*v, *v, static_cast<int>(J ^ H)...);
}
template <typename T, int L>
[[gnu::always_inline]] inline T lane_sum(Vec<T, L> v) {
  [&]<size_t... H>(std::index_sequence<H...>) {
    (add_swapped_lanes<(L >> (H + 1))>(&v, std::make_index_sequence<L>()), ...);
  }(std::make_index_sequence<std::countr_zero(static_cast<unsigned>(L))>());
  return v[0];
}

// The small-matrix path for A and B both contiguous along k (a_ks == b_ks == 1, the
// x @ weight^T of a linear layer): C[i][j] = alpha * dot(A row i, B row j) + beta * C[i][j],
// each dot product held in one vector of L partial sums (k strided by L), reduced by
// lane_sum, the k % L tail added last (in k order; whether its multiply-adds are fused is
// GCC's choice: it computes the products of a long tail in a vector, unfused). Tiles of DM
// rows by DN columns share their loads.
// No packing, and a thin side (n = 10) wastes at most DN - 1 columns where the blocked
// kernel would waste most of an NR-wide panel. Each element's arithmetic depends on k only,
// never on where its tile starts (edge tiles repeat their last row or column and drop the
// copies), so any split of m or n gives bit-identical results.
template <class K, int DM, int DN>
[[gnu::always_inline]] inline void gemm_dot(const Problem<typename K::T>& pr) {
  using T = typename K::T;
  using V = Vec<T, K::L>;
  using VU = VecUnaligned<T, K::L>;
  constexpr int L = K::L;
  const int64_t k_vec = pr.k / L * L;
  for (int64_t j0 = 0; j0 < pr.n; j0 += DN) {
    const T* b[DN];
#pragma GCC unroll 8
    for (int j = 0; j < DN; ++j) b[j] = pr.b + std::min(j0 + j, pr.n - 1) * pr.b_cs;
    for (int64_t i0 = 0; i0 < pr.m; i0 += DM) {
      const T* a[DM];
#pragma GCC unroll 8
      for (int i = 0; i < DM; ++i) a[i] = pr.a + std::min(i0 + i, pr.m - 1) * pr.a_rs;
      V acc[DM][DN] = {};
      for (int64_t p = 0; p < k_vec; p += L) {
        V bv[DN];
#pragma GCC unroll 8
        for (int j = 0; j < DN; ++j) bv[j] = *reinterpret_cast<const VU*>(b[j] + p);
#pragma GCC unroll 8
        for (int i = 0; i < DM; ++i) {
          const V av = *reinterpret_cast<const VU*>(a[i] + p);
#pragma GCC unroll 8
          for (int j = 0; j < DN; ++j) acc[i][j] += av * bv[j];
        }
      }
      const int64_t rows = std::min<int64_t>(DM, pr.m - i0);
      const int64_t cols = std::min<int64_t>(DN, pr.n - j0);
      // NOTE: fully unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 8
      for (int i = 0; i < DM; ++i) {
        T* c = pr.c + (i0 + i) * pr.ldc + j0;
#pragma GCC unroll 8
        for (int j = 0; j < DN; ++j) {
          if (i >= rows || j >= cols) continue;
          T sum = lane_sum<T, L>(acc[i][j]);
          for (int64_t p = k_vec; p < pr.k; ++p) sum += a[i][p] * b[j][p];
          c[j] = pr.beta == T(0) ? pr.alpha * sum : pr.alpha * sum + pr.beta * c[j];
        }
      }
      if (pr.epilogue != nullptr) pr.epilogue(pr.c + i0 * pr.ldc + j0, pr.ldc, rows, cols);
    }
  }
}

// The short-k path, B row-major (b_cs == 1) and k = KK <= kShortMaxK: the dX = dY @ W of a
// layer with few outputs (128 x 256 x 10). There the blocked kernel's fixed costs per tile
// (packing, zeroing and storing 28 accumulators for 10 multiply-adds each) are a good part
// of the work. Here each column block of B, (KK, kShortVectors * L), is loaded into
// registers once, then the rows of A stream past it, kShortRows at a time, A's values
// broadcast from where they lie (any strides), each C row of the block stored once: no
// packing, no C tile buffer. Each element accumulates its KK products from zero in k order,
// then alpha and beta apply as in the blocked kernel: the values equal the blocked
// kernel's and do not depend on where a row or column block starts (any split of m or n
// gives bit-identical results).
// The register tile: 6 rows of 2 vectors, 12 accumulators beside B's 2 * KK vectors, which
// fills AVX-512's 32 registers at KK = 10 (the multiply-adds broadcast A from memory
// themselves). Enough independent accumulators hide the latency of the k-long chains;
// measured on Zen 5, one thread, GFLOP/s: 128 x 256 x 10 NN 228 with 4 rows, 243 with 5,
// 252 with 6. For k of 11 to 16, one vector of 8 rows (B in 11..16 registers) gained
// 0..9% on 128 x 256 and 37 x 1000 but lost half on 512 x 512 (100 against 223 blocked).
inline constexpr int kShortMaxK = 10;
inline constexpr int kShortRows = 6;
inline constexpr int kShortVectors = 2;

// Bytes of C per pass over the column blocks of the short-k path: a chunk of rows of C of
// about this size (at least kShortRows rows) is finished before the next. Going down a tall
// C one narrow column block at a time cost more than reloading B's block per chunk.
// Measured on Zen 5, one thread, GFLOP/s, chunks of 64 KiB / 128 KiB / 132 rows: 512 x 512
// x 4 NN 113 / 74 / 60 (blocked kernel 85), 128 x 2048 x 10 155 / 180 / 72 (76), 128 x 256
// x 10 239 / 240 / 252 (216), 37 x 1000 x 10 199 / 228 / 235 (178).
inline constexpr int64_t kShortChunkBytes = int64_t{64} << 10;

// The width of the short-k path's column blocks.
template <class K>
constexpr int64_t short_k_width() {
  return int64_t{kShortVectors} * K::L;
}

// R rows of one column block (NV * L wide) of the short-k path: C rows at c (row stride
// ldc) from A rows at a, op(A)[i][p] = a[i * a_rs + p * a_ks] (a_ks == 1 when KContig), B's
// block in b.
template <class K, int KK, int NV, int R, bool KContig>
[[gnu::always_inline]] inline void short_k_rows(const typename K::T* a, int64_t a_rs,
                                                int64_t a_ks,
                                                const Vec<typename K::T, K::L> (&b)[KK][NV],
                                                typename K::T* c, int64_t ldc,
                                                typename K::T alpha, typename K::T beta) {
  using T = typename K::T;
  using V = Vec<T, K::L>;
  const T* row[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) row[i] = a + i * a_rs;
  V acc[R][NV] = {};
#pragma GCC unroll 16
  for (int p = 0; p < KK; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const T s = row[i][KContig ? p : p * a_ks];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += s * b[p][v];
    }
  store_tile<T, K::L, R, NV>(acc, c, ldc, alpha, beta);
}

// The short-k path over a whole problem with k == KK and n a multiple of W =
// short_k_width<K>() (the caller gives the last n % W columns to the blocked kernel): for
// each chunk of rows, column blocks of W, each loaded once into registers, the chunk's rows
// of A streamed past it, kShortRows at a time.
template <class K, int KK, bool KContig>
[[gnu::always_inline]] inline void gemm_short_k(const Problem<typename K::T>& pr) {
  using T = typename K::T;
  using V = Vec<T, K::L>;
  using VU = VecUnaligned<T, K::L>;
  constexpr int L = K::L, NV = kShortVectors, R = kShortRows, W = NV * L;
  // Locals: stores to C cannot change them, so they stay in registers.
  const int64_t m = pr.m, n = pr.n, a_rs = pr.a_rs, a_ks = pr.a_ks, b_ks = pr.b_ks;
  const int64_t ldc = pr.ldc;
  const T alpha = pr.alpha, beta = pr.beta;
  const T* const a = pr.a;
  const Epilogue<T> epilogue = pr.epilogue;
  const int64_t chunk =
      std::max<int64_t>(1, kShortChunkBytes / (n * static_cast<int64_t>(sizeof(T))) / R) * R;
  for (int64_t ic = 0; ic < m; ic += chunk) {
    const int64_t i_end = std::min(m, ic + chunk);
    for (int64_t j0 = 0; j0 + W <= n; j0 += W) {
      V b[KK][NV];
#pragma GCC unroll 16
      for (int p = 0; p < KK; ++p)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          b[p][v] = *reinterpret_cast<const VU*>(pr.b + j0 + p * b_ks + v * L);
      T* const c = pr.c + j0;
      int64_t i0 = ic;
      for (; i0 + R <= i_end; i0 += R)
        short_k_rows<K, KK, NV, R, KContig>(a + i0 * a_rs, a_rs, a_ks, b, c + i0 * ldc, ldc,
                                            alpha, beta);
      for (; i0 < i_end; ++i0)
        short_k_rows<K, KK, NV, 1, KContig>(a + i0 * a_rs, a_rs, a_ks, b, c + i0 * ldc, ldc,
                                            alpha, beta);
      if (epilogue != nullptr) epilogue(c + ic * ldc, ldc, i_end - ic, W);
    }
  }
}

}  // namespace ignis::cpu::gemm_detail
