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
// Edge panels are zero-padded. An edge tile runs the smallest kernel that covers it (fewer
// rows and/or one vector of columns) and, unless it fits exactly, goes through a temporary
// tile of which only the valid part is written to C.
//
// NOTE: every function here is always_inline and takes vectors only through pointers: they are
// compiled inside the target("avx512f") / target("avx2") wrappers of gemm.cpp, never on their
// own, so one source serves every instruction set (the fused multiply-adds come from GCC's
// floating-point contraction of `acc += s * b`, on by default in C++).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

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

// One GEMM C = alpha * op(A) @ op(B) + beta * C on a single matrix, operands addressed by
// strides: op(A)[i][p] = a[i * a_rs + p * a_ks], op(B)[p][j] = b[j * b_cs + p * b_ks].
template <typename T>
struct Problem {
  int64_t m, n, k;
  T alpha, beta;
  const T* a; int64_t a_rs, a_ks;
  const T* b; int64_t b_cs, b_ks;
  T* c; int64_t ldc;
};

// Transposes the L x L block held in r[0..L): r[i][j] <- r[j][i]. Recursive block swap:
// at each level h, the top-right and bottom-left h x h blocks trade places.
template <typename T, int L>
[[gnu::always_inline]] inline void transpose_block(Vec<T, L>* r) {
  using Index = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  using Mask = Vec<Index, L>;
#pragma GCC unroll 8
  for (int h = L / 2; h >= 1; h /= 2) {
    Mask lo, hi;
#pragma GCC unroll 16
    for (int j = 0; j < L; ++j) {
      lo[j] = (j & h) != 0 ? L + j - h : j;
      hi[j] = (j & h) != 0 ? L + j : j + h;
    }
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
      for (int w = 0; w < width; ++w) d[w] = s[w];
      for (int w = width; w < W; ++w) d[w] = T(0);
    }
    return;
  }
  int64_t p0 = 0;
  if (ks == 1 && width == W) {
    // Each panel line is contiguous along k: load L k-values of every line, transpose
    // L x L blocks in registers, store L rows of W values.
    using V = Vec<T, L>;
    using VU = VecUnaligned<T, L>;
    constexpr int G = (W + L - 1) / L;
    for (; p0 + L <= kc; p0 += L) {
      V r[G][L];
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i) {
          const int w = g * L + i;
          r[g][i] = w < W ? V(*reinterpret_cast<const VU*>(src + w * ws + p0)) : V{};
        }
        transpose_block<T, L>(r[g]);
      }
#pragma GCC unroll 16
      for (int q = 0; q < L; ++q)
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g)
          *reinterpret_cast<VU*>(dst + (p0 + q) * W + g * L) = r[g][q];
    }
  }
  for (int w = 0; w < width; ++w) {  // the k tail, or a strided panel
    const T* s = src + w * ws;
    for (int64_t p = p0; p < kc; ++p) dst[p * W + w] = s[p * ks];
  }
  for (int w = width; w < W; ++w)
    for (int64_t p = p0; p < kc; ++p) dst[p * W + w] = T(0);
}

// C tile (RM, RV * L) at c (row stride ldc) = alpha * pa @ pb + beta * C tile; beta == 0
// does not read C. pa: packed A panel (kc, MR); pb: packed B panel (kc, NR), 64-byte aligned.
// RM <= MR rows and RV <= NV vectors: a full tile, or the smaller tiles used at the edges.
template <class K, int RM = K::MR, int RV = K::NV>
[[gnu::always_inline]] inline void micro_kernel(int64_t kc, const typename K::T* __restrict pa,
                                                const typename K::T* __restrict pb,
                                                typename K::T* c, int64_t ldc,
                                                typename K::T alpha, typename K::T beta) {
  using T = typename K::T;
  using V = Vec<T, K::L>;
  using VU = VecUnaligned<T, K::L>;
  constexpr int MR = K::MR, NR = K::NR, L = K::L;

  // NOTE: hides c's relation to the caller's loop counters; otherwise GCC keeps one
  // induction variable per row of every inlined tile, spilled to the stack, and a short k
  // loop pays more for updating them than for its multiply-adds.
  __asm__("" : "+r"(c));
#pragma GCC unroll 16
  for (int i = 0; i < RM; ++i) __builtin_prefetch(c + i * ldc, 1);
  V acc[RM][RV] = {};
  for (int64_t p = 0; p < kc; ++p) {
    V b[RV];
#pragma GCC unroll 8
    for (int j = 0; j < RV; ++j) b[j] = *reinterpret_cast<const V*>(pb + p * NR + j * L);
#pragma GCC unroll 16
    for (int i = 0; i < RM; ++i) {
      const T a = pa[p * MR + i];
#pragma GCC unroll 8
      for (int j = 0; j < RV; ++j) acc[i][j] += a * b[j];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < RM; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < RV; ++j) {
      VU* cv = reinterpret_cast<VU*>(c + i * ldc + j * L);
      *cv = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cv;
    }
  }
}

// An edge tile of rows <= RM, cols <= RV * L: straight into C when it fills the smaller
// tile exactly, else through a temporary tile of which only the valid part reaches C.
template <class K, int RM, int RV>
[[gnu::always_inline]] inline void edge_tile(int rows, int cols, int64_t kc,
                                             const typename K::T* pa, const typename K::T* pb,
                                             typename K::T* c, int64_t ldc,
                                             typename K::T alpha, typename K::T beta) {
  using T = typename K::T;
  constexpr int W = RV * K::L;
  if (rows == RM && cols == W) {
    micro_kernel<K, RM, RV>(kc, pa, pb, c, ldc, alpha, beta);
    return;
  }
  alignas(64) T tile[RM * W];
  micro_kernel<K, RM, RV>(kc, pa, pb, tile, W, alpha, T(0));
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      T& out = c[i * ldc + j];
      out = beta == T(0) ? tile[i * W + j] : tile[i * W + j] + beta * out;
    }
}

// Runs the smallest edge tile, RM = 4, 6, ..., MR rows, that covers `rows`, so that a thin
// edge does not cost a full tile of multiply-adds.
template <class K, int RV, int RM = 4>
[[gnu::always_inline]] inline void edge_tile_rows(int rows, int cols, int64_t kc,
                                                  const typename K::T* pa,
                                                  const typename K::T* pb, typename K::T* c,
                                                  int64_t ldc, typename K::T alpha,
                                                  typename K::T beta) {
  if constexpr (RM >= K::MR) {
    edge_tile<K, K::MR, RV>(rows, cols, kc, pa, pb, c, ldc, alpha, beta);
  } else if (rows <= RM) {
    edge_tile<K, RM, RV>(rows, cols, kc, pa, pb, c, ldc, alpha, beta);
  } else {
    edge_tile_rows<K, RV, RM + 2>(rows, cols, kc, pa, pb, c, ldc, alpha, beta);
  }
}

// One packed block: C (mc, nc) = alpha * packed A (mc, kc) @ packed B (kc, nc) + beta * C.
template <class K>
[[gnu::always_inline]] inline void macro_kernel(int64_t mc, int64_t nc, int64_t kc,
                                                const typename K::T* pa,
                                                const typename K::T* pb, typename K::T* c,
                                                int64_t ldc, typename K::T alpha,
                                                typename K::T beta) {
  using T = typename K::T;
  constexpr int MR = K::MR, NR = K::NR;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    const T* pb_panel = pb + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
      const T* pa_panel = pa + ir * kc;
      T* c_tile = c + ir * ldc + jr;
      if (rows == MR && cols == NR) {
        micro_kernel<K>(kc, pa_panel, pb_panel, c_tile, ldc, alpha, beta);
      } else if (cols <= K::L) {
        edge_tile_rows<K, 1>(rows, cols, kc, pa_panel, pb_panel, c_tile, ldc, alpha, beta);
      } else {
        edge_tile_rows<K, K::NV>(rows, cols, kc, pa_panel, pb_panel, c_tile, ldc, alpha,
                                 beta);
      }
    }
  }
}

// The whole blocked GEMM of one problem with k > 0, serially. pack_a holds MC * KC and
// pack_b KC * NC elements, each plus L of slack (see pack_panel), both 64-byte aligned.
// Every C element accumulates its k terms in the same order whatever the blocking of m and
// n, and tiles start at multiples of MR and NR, so splitting a problem along m at multiples
// of MR (or along n at multiples of NR) gives bit-identical results.
template <class K>
[[gnu::always_inline]] inline void gemm_blocked(const Problem<typename K::T>& pr,
                                                typename K::T* pack_a, typename K::T* pack_b) {
  using T = typename K::T;
  constexpr int MR = K::MR, NR = K::NR;
  for (int64_t jc = 0; jc < pr.n; jc += K::NC) {
    const int64_t nc = std::min(K::NC, pr.n - jc);
    for (int64_t pc = 0; pc < pr.k; pc += K::KC) {
      const int64_t kc = std::min(K::KC, pr.k - pc);
      const T beta = pc == 0 ? pr.beta : T(1);
      for (int64_t jr = 0; jr < nc; jr += NR) {
        const T* src = pr.b + (jc + jr) * pr.b_cs + pc * pr.b_ks;
        const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
        pack_panel<T, NR, K::L>(src, pr.b_cs, pr.b_ks, cols, kc, pack_b + jr * kc);
      }
      for (int64_t ic = 0; ic < pr.m; ic += K::MC) {
        const int64_t mc = std::min(K::MC, pr.m - ic);
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const T* src = pr.a + (ic + ir) * pr.a_rs + pc * pr.a_ks;
          const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
          pack_panel<T, MR, K::L>(src, pr.a_rs, pr.a_ks, rows, kc, pack_a + ir * kc);
        }
        macro_kernel<K>(mc, nc, kc, pack_a, pack_b, pr.c + ic * pr.ldc + jc, pr.ldc,
                        pr.alpha, beta);
      }
    }
  }
}

}  // namespace ignis::cpu::gemm_detail
