// Tests of the CPU GEMM's small-matrix paths on every instruction set the CPU runs, against a
// double-precision reference: the dot kernel (A and B contiguous along k, one side of C at
// most 16: the x @ weight^T of a thin linear layer), the blocked kernel reading B in place
// (B row-major, m <= 256) and reading A in place (A's rows along k, few column panels), the
// short-k kernel (B row-major, k <= 10), and the split over threads. The general blocked
// path is tested in linalg_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "support/gemm_isa.h"
#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

// C (m, n) = alpha * op(A) @ op(B) + beta * C with A (m, k) row-major (op(A) = A, the
// default) or (k, m) row-major (op(A) = A^T, with ta()), and B (n, k) row-major (op(B) =
// B^T, the default) or (k, n) row-major (op(B) = B, with nn()). Every row is `pad` elements
// longer than its width.
template <typename T>
struct NtCase {
  NtCase(int64_t m_, int64_t n_, int64_t k_, int64_t pad_ = 0, double alpha_ = 1.0,
         double beta_ = 0.0)
      : m(m_), n(n_), k(k_), pad(pad_), alpha(alpha_), beta(beta_) {}
  NtCase& nn() {
    trans_b = false;
    return *this;
  }
  NtCase& ta() {
    trans_a = true;
    return *this;
  }

  int64_t m, n, k, pad;
  double alpha, beta;
  bool trans_a = false;
  bool trans_b = true;
  std::vector<T> a, b, c;

  int64_t lda() const { return (trans_a ? m : k) + pad; }
  T a_at(int64_t i, int64_t p) const {  // op(A)[i][p]
    return trans_a ? a[static_cast<size_t>(p * lda() + i)] : a[static_cast<size_t>(i * lda() + p)];
  }
  int64_t ldb() const { return (trans_b ? k : n) + pad; }
  int64_t ldc() const { return n + pad; }
  T b_at(int64_t p, int64_t j) const {  // op(B)[p][j]
    return trans_b ? b[static_cast<size_t>(j * ldb() + p)] : b[static_cast<size_t>(p * ldb() + j)];
  }
  void fill(uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    a.resize(static_cast<size_t>((trans_a ? k : m) * lda()));
    b.resize(static_cast<size_t>((trans_b ? n : k) * ldb()));
    c.resize(static_cast<size_t>(m * ldc()));
    for (T& v : a) v = static_cast<T>(uniform(rng));
    for (T& v : b) v = static_cast<T>(uniform(rng));
    for (T& v : c) v = static_cast<T>(uniform(rng));
  }
  GemmArgs args() {
    return {std::is_same_v<T, float> ? kFloat32 : kFloat64, trans_a, trans_b, m, n, k, alpha,
            beta, a.data(), lda(), 0, b.data(), ldb(), 0, c.data(), ldc(), 0};
  }
  std::string str() const {
    return std::string(trans_a ? "T" : "N") + (trans_b ? "T" : "N") + " m=" + std::to_string(m) +
           " n=" + std::to_string(n) + " k=" + std::to_string(k) +
           " pad=" + std::to_string(pad) + " alpha=" + std::to_string(alpha) +
           " beta=" + std::to_string(beta);
  }
};

// Runs the case and compares every element of C (the padding too: it must be untouched)
// with the double-precision product.
template <typename T>
void expect_matches_reference(NtCase<T> g, uint32_t seed) {
  g.fill(seed);
  std::vector<double> want(g.c.begin(), g.c.end());
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double dot = 0.0;
      for (int64_t p = 0; p < g.k; ++p)
        dot += static_cast<double>(g.a_at(i, p)) * g.b_at(p, j);
      double& out = want[static_cast<size_t>(i * g.ldc() + j)];
      out = g.alpha * dot + (g.beta == 0.0 ? 0.0 : g.beta * out);
    }
  cpu::gemm(g.args());
  const double tol = (std::is_same_v<T, float> ? 1e-5 : 1e-12) * static_cast<double>(g.k);
  int mismatches = 0;
  for (size_t e = 0; e < want.size() && mismatches < 5; ++e) {
    if (std::abs(g.c[e] - want[e]) > tol * (1.0 + std::abs(want[e]))) {
      ADD_FAILURE() << g.str() << ": C[" << e << "] = " << g.c[e] << ", expected " << want[e];
      ++mismatches;
    }
  }
}

class GemmSmallTest : public test::GemmIsaTest {};

// m, n, k: thin on either side, sides below, at and past the tiles (4 x 6, 2 x 4), k a
// multiple of every vector width, one past it, and not a multiple at all.
const int64_t kShapes[][3] = {{32, 10, 64}, {10, 32, 64},  {1, 1, 32},   {16, 16, 33},
                              {5, 7, 100},  {128, 10, 784}, {16, 300, 47}, {3, 2, 1000}};

TEST_P(GemmSmallTest, MatchesReference) {
  uint32_t seed = 0;
  for (const auto& [m, n, k] : kShapes) {
    expect_matches_reference(NtCase<float>{m, n, k}, ++seed);
    expect_matches_reference(NtCase<double>{m, n, k}, ++seed);
  }
}

// B read in place: m below, at and past the limit (256), n with and without a narrow last
// panel, k over one cache block (the later blocks accumulate into C). On AVX-512 the k = 9
// cases take the short-k kernel.
TEST_P(GemmSmallTest, BlockedReadingBInPlaceMatchesReference) {
  uint32_t seed = 50;
  const int64_t shapes[][3] = {
      {64, 64, 64}, {10, 256, 128}, {13, 77, 600}, {256, 40, 9}, {257, 33, 9}};
  for (const auto& [m, n, k] : shapes) {
    expect_matches_reference(NtCase<float>{m, n, k}.nn(), ++seed);
    expect_matches_reference(NtCase<double>{m, n, k, 3, 0.5, 1.0}.nn(), ++seed);
  }
}

// A read in place: n within the limit of 16 column panels (NR = 32, 16 or 8 by kernel), m
// with and without a partial last row panel (packed, of every edge height), k short (no C
// prefetch), long and over one cache block, through NN and NT (on AVX-512, NN with k = 10
// takes the short-k kernel).
TEST_P(GemmSmallTest, BlockedReadingAInPlaceMatchesReference) {
  uint32_t seed = 70;
  const int64_t shapes[][3] = {{128, 256, 10}, {127, 100, 10}, {29, 64, 300},
                               {43, 48, 600},  {15, 33, 129},  {128, 40, 784}};
  for (const auto& [m, n, k] : shapes) {
    expect_matches_reference(NtCase<float>{m, n, k}.nn(), ++seed);
    expect_matches_reference(NtCase<float>{m, n, k, 0}, ++seed);
    expect_matches_reference(NtCase<double>{m, n, k, 3, 0.5, 1.0}.nn(), ++seed);
    expect_matches_reference(NtCase<double>{m, n, k, 2, -1.5, 0.25}, ++seed);
  }
}

// The short-k kernel (AVX-512; B row-major, k <= 10, n at least one block of 32 floats or 16
// doubles, the last n % 32 or n % 16 columns blocked): every k from 1 to 10 and past it
// (11..16 take the blocked kernel), m not a multiple of its 6 rows, n with and without a
// narrow last block and below one block, alpha and beta (0, 1, other) with padded rows, A
// transposed (its values strided along k), a tall C (chunks of rows) and a wide one.
TEST_P(GemmSmallTest, ShortKMatchesReference) {
  uint32_t seed = 90;
  const double alpha_beta[][2] = {{1.0, 0.0}, {1.0, 1.0}, {-1.5, 0.25}};
  for (int64_t k = 1; k <= 16; ++k) {
    for (const auto& [alpha, beta] : alpha_beta) {
      expect_matches_reference(NtCase<float>{31, 256, k, 0, alpha, beta}.nn(), ++seed);
      expect_matches_reference(NtCase<float>{13, 77, k, 3, alpha, beta}.nn(), ++seed);
      expect_matches_reference(NtCase<double>{19, 40, k, 1, alpha, beta}.nn(), ++seed);
      expect_matches_reference(NtCase<float>{7, 45, k, 2, alpha, beta}.nn().ta(), ++seed);
    }
  }
  const int64_t shapes[][3] = {{128, 256, 10}, {1, 32, 3}, {6, 10, 5}, {300, 520, 9},
                               {17, 2050, 4}};
  for (const auto& [m, n, k] : shapes) {
    expect_matches_reference(NtCase<float>{m, n, k}.nn(), ++seed);
    expect_matches_reference(NtCase<double>{m, n, k, 5, 2.0, -1.0}.nn().ta(), ++seed);
  }
}

TEST_P(GemmSmallTest, AlphaBetaAndLeadingDims) {
  uint32_t seed = 100;
  const double alpha_beta[][2] = {{1.0, 0.0}, {0.5, 1.0}, {-2.0, 0.25}};
  for (const auto& [alpha, beta] : alpha_beta) {
    for (int64_t pad : {0, 5}) {
      expect_matches_reference(NtCase<float>{21, 9, 77, pad, alpha, beta}, ++seed);
      expect_matches_reference(NtCase<double>{9, 21, 77, pad, alpha, beta}, ++seed);
    }
  }
}

// beta == 0 never reads C: NaN there must not leak into the result (the dot kernel, and
// the short-k kernel with a blocked last column).
TEST_P(GemmSmallTest, BetaZeroIgnoresNaNInC) {
  for (NtCase<float> g : {NtCase<float>{7, 5, 40}, NtCase<float>{7, 33, 5}.nn()}) {
    g.fill(1);
    for (float& v : g.c) v = std::nanf("");
    cpu::gemm(g.args());
    for (float v : g.c) EXPECT_FALSE(std::isnan(v)) << g.str();
  }
}

// The dot kernel's documented order, bit for bit, for k a multiple of the vector width L
// (16 floats or 8 doubles on AVX-512, 8 or 4 on AVX2): each product added into lane p % L of
// L partial sums, then the lanes folded pairwise (lane l + lane l ^ h for h = L/2, ..., 1).
// Whether a product and its addition are fused into one multiply-add is the compiler's
// choice (GCC contracts them at -O2 and up, not in the -O1 sanitizer build), so both are
// accepted; the order is what is checked. Not the k % L tail: GCC vectorises its products
// and fuses only the last few. The portable kernel has no fixed order across builds.
template <typename T>
T dot_in_kernel_order(const NtCase<T>& g, int64_t i, int64_t j, int64_t lanes, bool fused) {
  std::vector<T> acc(static_cast<size_t>(lanes), T(0)), folded(acc.size());
  for (int64_t p = 0; p < g.k; ++p) {
    T& lane = acc[static_cast<size_t>(p % lanes)];
    const T a = g.a_at(i, p), b = g.b_at(p, j);
    if (fused) {
      lane = std::fma(a, b, lane);
    } else {
      lane = lane + a * b;  // this file is compiled with -ffp-contract=off
    }
  }
  for (int64_t h = lanes / 2; h >= 1; h /= 2) {
    for (int64_t l = 0; l < lanes; ++l) {
      folded[static_cast<size_t>(l)] =
          acc[static_cast<size_t>(l)] + acc[static_cast<size_t>(l ^ h)];
    }
    acc.swap(folded);
  }
  return acc[0];
}

template <typename T>
void expect_dot_kernel_order(NtCase<T> g, int64_t lanes, uint32_t seed) {
  g.fill(seed);
  cpu::gemm(g.args());
  int mismatches = 0;
  ASSERT_EQ(g.k % lanes, 0) << g.str();
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n && mismatches < 5; ++j) {
      const T fused = dot_in_kernel_order(g, i, j, lanes, true);
      const T unfused = dot_in_kernel_order(g, i, j, lanes, false);
      const T got = g.c[static_cast<size_t>(i * g.ldc() + j)];
      if (got != fused && got != unfused) {
        ADD_FAILURE() << g.str() << ": C[" << i << "][" << j << "] = " << got << ", want "
                      << fused << " (fused) or " << unfused << " (unfused), the kernel's order"
                      << " in " << lanes << " lanes";
        ++mismatches;
      }
    }
  }
}

TEST_P(GemmSmallTest, DotKernelSumsInItsDocumentedOrder) {
  const cpu::GemmIsa isa = GetParam();
  if (isa == cpu::GemmIsa::Portable) GTEST_SKIP() << "no fixed fusing of multiply-adds";
  const int64_t float_lanes = isa == cpu::GemmIsa::Avx512 ? 16 : 8;
  uint32_t seed = 120;
  // Thin on either side (the dot kernel: A and B contiguous along k, m or n at most 16,
  // k at least 32), k a multiple of 16, of 2 to 63 vectors.
  const int64_t shapes[][3] = {{5, 7, 96}, {16, 3, 64}, {32, 10, 32}, {3, 16, 1008},
                               {9, 11, 160}};
  for (const auto& [m, n, k] : shapes) {
    expect_dot_kernel_order(NtCase<float>{m, n, k}, float_lanes, ++seed);
    expect_dot_kernel_order(NtCase<double>{m, n, k}, float_lanes / 2, ++seed);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmSmallTest, test::all_gemm_isas(),
                         test::gemm_isa_test_name);

// The split of m or n over threads never changes an element's arithmetic: 1 and 2 threads
// agree bit for bit (the sizes are over the 2^21 multiply-adds below which a GEMM is not
// split), for the dot kernel (NT) and the blocked one (NN; 12 x 50000 reads B in place, each
// thread a slice of n; 40000 x 10 packs B and reads A in place, each thread a slice of m;
// 256 x 256 x 256 splits n, 128 columns each rather than 140 and 116 rows; 300 x 96 x 700
// splits m and reads A in place, NN and NT), and the short-k one (NN, k = 8 and 10: 2000 x
// 300 splits m, with a blocked last 12 columns; 30 x 20000 splits n).
TEST(GemmSmall, ThreadCountInvariant) {
  const int saved = get_num_threads();
  const int64_t shapes[][3] = {{40000, 10, 64},  {12, 50000, 50}, {256, 256, 256},
                               {300, 96, 700},   {2000, 300, 8},  {30, 20000, 10}};
  for (const auto& [m, n, k] : shapes) {
    for (bool trans_b : {true, false}) {
      NtCase<float> one{m, n, k, 3, 1.0, 0.5};
      one.trans_b = trans_b;
      one.fill(7);
      NtCase<float> two = one;
      set_num_threads(1);
      cpu::gemm(one.args());
      set_num_threads(2);
      cpu::gemm(two.args());
      EXPECT_EQ(one.c, two.c) << one.str();
    }
  }
  set_num_threads(saved);
}

}  // namespace
}  // namespace ignis
