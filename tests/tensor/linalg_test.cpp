// Tests of the CPU GEMM (every instruction set the CPU runs, against a naive double-precision
// reference) and of the raw matrix products of tensor/linalg.h (PyTorch's shape semantics).
#include "tensor/linalg.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/kernels.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"
#include "support/threads_and_windows.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- the GEMM kernel -------------------------------------------------------------------

// One GEMM problem with its buffers; op(A) is (m, k), op(B) (k, n), C (m, n), each matrix
// row-major with a leading dim `pad` larger than its width, `batch` matrices `stride` apart
// (stride 0 for a broadcast A or B).
template <typename T>
struct GemmCase {
  bool trans_a = false, trans_b = false;
  int64_t m = 1, n = 1, k = 1;
  double alpha = 1.0, beta = 0.0;
  int64_t pad = 0;
  int64_t batch = 1;
  bool broadcast_a = false, broadcast_b = false;

  int64_t lda() const { return (trans_a ? m : k) + pad; }
  int64_t ldb() const { return (trans_b ? k : n) + pad; }
  int64_t ldc() const { return n + pad; }
  int64_t size_a() const { return (trans_a ? k : m) * lda(); }
  int64_t size_b() const { return (trans_b ? n : k) * ldb(); }
  int64_t size_c() const { return m * ldc(); }
  int64_t stride_a() const { return broadcast_a ? 0 : size_a(); }
  int64_t stride_b() const { return broadcast_b ? 0 : size_b(); }

  std::vector<T> a, b, c;

  // Random operands in [-1, 1); C is NaN when beta == 0 (it must not be read).
  void fill(uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    a.resize(static_cast<size_t>(broadcast_a ? size_a() : batch * size_a()));
    b.resize(static_cast<size_t>(broadcast_b ? size_b() : batch * size_b()));
    c.resize(static_cast<size_t>(batch * size_c()));
    for (T& x : a) x = static_cast<T>(uniform(rng));
    for (T& x : b) x = static_cast<T>(uniform(rng));
    for (T& x : c) x = beta == 0.0 ? static_cast<T>(kNaN) : static_cast<T>(uniform(rng));
  }

  GemmArgs args() {
    return {dtype_of<T>, trans_a, trans_b, m, n, k, alpha, beta,
            a.data(), lda(), stride_a(), b.data(), ldb(), stride_b(),
            c.data(), ldc(), size_c(), batch};
  }

  std::string str() const {
    return std::string(dtype_name(dtype_of<T>)) + " " + (trans_a ? "T" : "N") +
           (trans_b ? "T" : "N") + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
           " k=" + std::to_string(k) + " alpha=" + std::to_string(alpha) +
           " beta=" + std::to_string(beta) + " pad=" + std::to_string(pad) +
           " batch=" + std::to_string(batch) + (broadcast_a ? " broadcast_a" : "") +
           (broadcast_b ? " broadcast_b" : "");
  }
};

// Runs cpu::gemm on `gc` and compares every element of C (and the padding, which must be
// untouched) with a double-precision reference; the tolerance is relative to
// |alpha| sum_p |a_ip b_pj| + |beta c_ij|.
template <typename T>
void expect_gemm_matches_reference(GemmCase<T> gc, uint32_t seed) {
  SCOPED_TRACE(gc.str());
  gc.fill(seed);
  const std::vector<T> c0 = gc.c;
  cpu::gemm(gc.args());
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  int failures = 0;
  for (int64_t bi = 0; bi < gc.batch; ++bi) {
    const T* a = gc.a.data() + bi * gc.stride_a();
    const T* b = gc.b.data() + bi * gc.stride_b();
    const int64_t c_off = bi * gc.size_c();
    for (int64_t i = 0; i < gc.m; ++i) {
      for (int64_t j = 0; j < gc.ldc(); ++j) {
        const int64_t at = c_off + i * gc.ldc() + j;
        const double got = static_cast<double>(gc.c[at]);
        if (j >= gc.n) {  // padding: never written
          const double before = static_cast<double>(c0[at]);
          EXPECT_TRUE(got == before || (std::isnan(got) && std::isnan(before)))
              << "padding written at batch " << bi << " (" << i << ", " << j << ")";
          continue;
        }
        double sum = 0.0, scale = 0.0;
        for (int64_t p = 0; p < gc.k; ++p) {
          const double av = a[gc.trans_a ? p * gc.lda() + i : i * gc.lda() + p];
          const double bv = b[gc.trans_b ? j * gc.ldb() + p : p * gc.ldb() + j];
          sum += av * bv;
          scale += std::fabs(av * bv);
        }
        double want = gc.alpha * sum;
        scale = std::fabs(gc.alpha) * scale;
        if (gc.beta != 0.0) {
          want += gc.beta * static_cast<double>(c0[at]);
          scale += std::fabs(gc.beta * static_cast<double>(c0[at]));
        }
        const bool ok = std::fabs(got - want) <= tol * std::max(scale, 1e-30);
        if (!ok && ++failures <= 5) {
          ADD_FAILURE() << "C[" << bi << "][" << i << "][" << j << "] = " << got
                        << ", want " << want;
        }
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

// Sets the GEMM kernel for one test and restores the default after.
class GemmIsaGuard {
 public:
  explicit GemmIsaGuard(cpu::GemmIsa isa) : saved_(cpu::gemm_isa()) { cpu::set_gemm_isa(isa); }
  ~GemmIsaGuard() { cpu::set_gemm_isa(saved_); }
  GemmIsaGuard(const GemmIsaGuard&) = delete;
  GemmIsaGuard& operator=(const GemmIsaGuard&) = delete;

 private:
  cpu::GemmIsa saved_;
};

class GemmKernelTest : public ::testing::TestWithParam<cpu::GemmIsa> {
 protected:
  void SetUp() override {
    if (!cpu::gemm_isa_supported(GetParam()))
      GTEST_SKIP() << "this CPU cannot run the " << cpu::gemm_isa_name(GetParam()) << " kernel";
    guard_.emplace(GetParam());
  }
  void TearDown() override { guard_.reset(); }

 private:
  std::optional<GemmIsaGuard> guard_;
};

// m, n, k: tiny, odd, exact tiles of every kernel, one past them, and several cache blocks.
const int64_t kShapes[][3] = {
    {1, 1, 1},     {17, 33, 65},   {14, 32, 256}, {15, 33, 257}, {12, 16, 8},
    {6, 16, 9},    {4, 8, 3},      {2, 5, 300},   {128, 10, 256}, {10, 256, 128},
    {1, 100, 7},   {100, 1, 7},    {300, 200, 500}, {170, 4100, 3}, {29, 65, 513}};

TEST_P(GemmKernelTest, MatchesReferenceForAllTransposes) {
  uint32_t seed = 0;
  for (const auto& [m, n, k] : kShapes) {
    for (int trans = 0; trans < 4; ++trans) {
      GemmCase<float> f;
      f.trans_a = (trans & 1) != 0;
      f.trans_b = (trans & 2) != 0;
      f.m = m, f.n = n, f.k = k;
      expect_gemm_matches_reference(f, ++seed);
      GemmCase<double> d;
      d.trans_a = f.trans_a, d.trans_b = f.trans_b;
      d.m = m, d.n = n, d.k = k;
      expect_gemm_matches_reference(d, ++seed);
    }
  }
}

TEST_P(GemmKernelTest, AlphaBetaAndLeadingDims) {
  uint32_t seed = 100;
  const double alpha_beta[][2] = {{1.0, 0.0}, {0.5, 1.0}, {-2.0, 0.25}, {1.0, -1.0}};
  for (const auto& [alpha, beta] : alpha_beta) {
    for (int64_t pad : {0, 3, 17}) {
      for (int trans = 0; trans < 4; ++trans) {
        GemmCase<float> f;
        f.trans_a = (trans & 1) != 0;
        f.trans_b = (trans & 2) != 0;
        f.m = 37, f.n = 45, f.k = 70;
        f.alpha = alpha, f.beta = beta, f.pad = pad;
        expect_gemm_matches_reference(f, ++seed);
        GemmCase<double> d;
        d.trans_a = f.trans_a, d.trans_b = f.trans_b;
        d.m = 23, d.n = 19, d.k = 300;
        d.alpha = alpha, d.beta = beta, d.pad = pad;
        expect_gemm_matches_reference(d, ++seed);
      }
    }
  }
}

// Taller than kDirectBMaxRows (256), so that B is packed, with k over two or three KC blocks
// (beta applies to the first only), partial row and column panels, alpha, beta and padded
// leading dimensions.
TEST_P(GemmKernelTest, TallPackedOverSeveralKBlocksWithAlphaBetaAndPads) {
  uint32_t seed = 300;
  for (int trans = 0; trans < 4; ++trans) {
    GemmCase<float> f;
    f.trans_a = (trans & 1) != 0;
    f.trans_b = (trans & 2) != 0;
    f.m = 299, f.n = 97, f.k = 1100;
    f.alpha = 0.5, f.beta = -1.0, f.pad = 5;
    expect_gemm_matches_reference(f, ++seed);
    GemmCase<double> d;
    d.trans_a = f.trans_a, d.trans_b = f.trans_b;
    d.m = 271, d.n = 41, d.k = 530;
    d.alpha = 2.0, d.beta = 0.5, d.pad = 3;
    expect_gemm_matches_reference(d, ++seed);
  }
}

TEST_P(GemmKernelTest, BatchStridesAndBroadcast) {
  uint32_t seed = 200;
  for (int broadcast = 0; broadcast < 3; ++broadcast) {
    GemmCase<float> f;
    f.m = 19, f.n = 40, f.k = 33, f.batch = 5, f.pad = 2, f.beta = 0.5;
    f.trans_b = true;
    f.broadcast_a = broadcast == 1;
    f.broadcast_b = broadcast == 2;
    expect_gemm_matches_reference(f, ++seed);
    GemmCase<double> d;
    d.m = 9, d.n = 9, d.k = 9, d.batch = 40;  // many small matrices: threads take batches
    d.trans_a = true;
    d.broadcast_a = broadcast == 1;
    d.broadcast_b = broadcast == 2;
    expect_gemm_matches_reference(d, ++seed);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmKernelTest,
                         ::testing::Values(cpu::GemmIsa::Avx512, cpu::GemmIsa::Avx2,
                                           cpu::GemmIsa::Portable),
                         [](const auto& info) { return cpu::gemm_isa_name(info.param); });

TEST(GemmKernel, BetaZeroIgnoresNaNInC) {
  std::vector<float> a(4 * 5, 1.f), b(5 * 3, 2.f), c(4 * 3, static_cast<float>(kNaN));
  cpu::gemm({kFloat32, false, false, 4, 3, 5, 1.0, 0.0, a.data(), 5, 0, b.data(), 3, 0,
             c.data(), 3, 0});
  for (float x : c) EXPECT_EQ(x, 10.f);
}

TEST(GemmKernel, EmptyInnerDimensionScalesC) {
  std::vector<double> c = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  cpu::gemm({kFloat64, false, false, 2, 3, 0, 1.0, 0.5, nullptr, 1, 0, nullptr, 3, 0,
             c.data(), 3, 0});
  EXPECT_EQ(c, (std::vector<double>{0.5, 1.0, 1.5, 2.0, 2.5, 3.0}));
  std::vector<float> c_nan(6, static_cast<float>(kNaN));
  cpu::gemm({kFloat32, true, true, 2, 3, 0, 1.0, 0.0, nullptr, 2, 0, nullptr, 1, 0,
             c_nan.data(), 3, 0});
  EXPECT_EQ(c_nan, std::vector<float>(6, 0.f));
}

TEST(GemmKernel, EmptyOutputTouchesNothing) {
  std::vector<float> c = {7.f};
  cpu::gemm({kFloat32, false, false, 0, 1, 4, 1.0, 0.0, nullptr, 4, 0, nullptr, 1, 0,
             c.data(), 1, 0});
  cpu::gemm({kFloat32, false, false, 1, 0, 4, 1.0, 0.0, nullptr, 4, 0, nullptr, 0, 0,
             c.data(), 0, 0});
  EXPECT_EQ(c[0], 7.f);
}

TEST(GemmKernel, RejectsIntegerDtype) {
  int32_t x = 0;
  EXPECT_THAT([&] {
    cpu::gemm({kInt32, false, false, 1, 1, 1, 1.0, 0.0, &x, 1, 0, &x, 1, 0, &x, 1, 0});
  }, ThrowsMessage<DTypeError>(HasSubstr("gemm")));
}

// Each C element is computed by one thread in a fixed order: 1 and 2 threads agree bit for
// bit, for slices along m, along n and across batches.
TEST(GemmKernel, ThreadCountInvariant) {
  test::ThreadCountGuard guard;
  const int64_t shapes[][4] = {{300, 200, 500, 1}, {700, 60, 129, 1}, {33, 47, 65, 60}};
  for (const auto& [m, n, k, batch] : shapes) {
    GemmCase<float> one;
    one.m = m, one.n = n, one.k = k, one.batch = batch, one.beta = 0.5, one.trans_b = true;
    one.fill(7);
    GemmCase<float> two = one;
    set_num_threads(1);
    cpu::gemm(one.args());
    set_num_threads(2);
    cpu::gemm(two.args());
    EXPECT_EQ(one.c, two.c) << one.str();
  }
}

// ---- matmul and friends ---------------------------------------------------------------

// Reproducible values in [-1, 1) of `shape`.
Tensor random_tensor(const Shape& shape, uint32_t seed, DType dtype = kFloat32) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> values(static_cast<size_t>(numel_of(shape)));
  for (double& v : values) v = uniform(rng);
  return raw::to(from_vector<double>(values, shape), dtype);
}

// The element at `index` of a tensor of any strides, as double.
double at(const Tensor& t, const Shape& index) {
  int64_t offset = 0;
  for (size_t d = 0; d < index.size(); ++d) offset += index[d] * t.stride(static_cast<int64_t>(d));
  return t.dtype() == kFloat32 ? static_cast<double>(t.data_ptr<float>()[offset])
                               : t.data_ptr<double>()[offset];
}

// A naive batched matmul of 2-D-or-more a and b with broadcast batch dims, in double.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, const Shape& out_shape) {
  const int64_t nd = static_cast<int64_t>(out_shape.size());
  const int64_t k = a.size(-1);
  std::vector<double> out;
  Shape index(out_shape.size(), 0);
  for (int64_t flat = 0; flat < numel_of(out_shape); ++flat) {
    int64_t rest = flat;
    for (int64_t d = nd - 1; d >= 0; --d) {
      index[d] = rest % out_shape[d];
      rest /= out_shape[d];
    }
    auto operand_index = [&](const Tensor& x, int64_t row, int64_t col) {
      Shape ix(static_cast<size_t>(x.dim()));
      for (int64_t d = 0; d < x.dim() - 2; ++d) {
        const int64_t od = nd - x.dim() + d;
        ix[d] = x.size(d) == 1 ? 0 : index[od];
      }
      ix[x.dim() - 2] = row;
      ix[x.dim() - 1] = col;
      return ix;
    };
    double sum = 0.0;
    for (int64_t p = 0; p < k; ++p)
      sum += at(a, operand_index(a, index[nd - 2], p)) * at(b, operand_index(b, p, index[nd - 1]));
    out.push_back(sum);
  }
  return out;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol) << "at flat index " << i;
}

TEST(Matmul, VectorDotVector) {
  const Tensor a = from_vector<float>({1, 2, 3});
  const Tensor b = from_vector<float>({4, 5, 6});
  const Tensor out = raw::matmul(a, b);
  EXPECT_EQ(out.dim(), 0);
  EXPECT_EQ(out.item<float>(), 32.f);
}

TEST(Matmul, VectorTimesMatrixAndMatrixTimesVector) {
  const Tensor v = from_vector<float>({1, 2});
  const Tensor m = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Tensor vm = raw::matmul(v, m);  // (2,) @ (2, 3) -> (3,)
  EXPECT_EQ(vm.sizes(), (Shape{3}));
  EXPECT_EQ(vm.to_vector<float>(), (std::vector<float>{9, 12, 15}));
  const Tensor w = from_vector<float>({1, 0, -1});
  const Tensor mw = raw::matmul(m, w);  // (2, 3) @ (3,) -> (2,)
  EXPECT_EQ(mw.sizes(), (Shape{2}));
  EXPECT_EQ(mw.to_vector<float>(), (std::vector<float>{-2, -2}));
}

TEST(Matmul, BatchedBroadcast) {
  const Tensor a = random_tensor({2, 1, 3, 4}, 1);
  const Tensor b = random_tensor({5, 4, 2}, 2);
  const Tensor out = raw::matmul(a, b);
  EXPECT_EQ(out.sizes(), (Shape{2, 5, 3, 2}));
  expect_near(out.to_vector<double>(), naive_matmul(a, b, out.sizes()), 1e-5);
}

TEST(Matmul, BatchedTimesVectorAndVectorTimesBatched) {
  const Tensor a = random_tensor({3, 4, 5}, 3, kFloat64);
  const Tensor v = random_tensor({5}, 4, kFloat64);
  const Tensor av = raw::matmul(a, v);
  EXPECT_EQ(av.sizes(), (Shape{3, 4}));
  expect_near(av.to_vector<double>(),
              naive_matmul(a, raw::unsqueeze(v, 1), {3, 4, 1}), 1e-12);
  const Tensor u = random_tensor({4}, 5, kFloat64);
  const Tensor ua = raw::matmul(u, a);
  EXPECT_EQ(ua.sizes(), (Shape{3, 5}));
  expect_near(ua.to_vector<double>(), naive_matmul(raw::unsqueeze(u, 0), a, {3, 1, 5}), 1e-12);
}

TEST(Matmul, TransposedAndStridedOperands) {
  const Tensor a = random_tensor({6, 40}, 6);
  const Tensor b = random_tensor({30, 40}, 7);
  const Tensor bt = raw::t(b);  // (40, 30), a transposed contiguous matrix
  const Tensor out = raw::matmul(a, bt);
  expect_near(out.to_vector<double>(), naive_matmul(a, bt, {6, 30}), 1e-5);
  // Every other column: neither layout fits, so the operand is copied.
  const Tensor sliced = raw::slice(random_tensor({40, 60}, 8), 1, 0, 60, 2);
  const Tensor out2 = raw::matmul(a, sliced);
  expect_near(out2.to_vector<double>(), naive_matmul(a, sliced, {6, 30}), 1e-5);
  // Batched transposes of a (3, 40, 6) tensor.
  const Tensor at = raw::transpose(random_tensor({3, 40, 6}, 9), 1, 2);
  const Tensor out3 = raw::matmul(at, bt);
  expect_near(out3.to_vector<double>(), naive_matmul(at, bt, {3, 6, 30}), 1e-5);
}

TEST(Matmul, ZeroSizeDims) {
  const Tensor out = raw::matmul(zeros({3, 0}), zeros({0, 4}));
  EXPECT_EQ(out.sizes(), (Shape{3, 4}));
  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(12, 0.f));
  EXPECT_EQ(raw::matmul(zeros({0, 5}), zeros({5, 4})).sizes(), (Shape{0, 4}));
  EXPECT_EQ(raw::matmul(zeros({2, 0, 5}), zeros({5, 4})).sizes(), (Shape{2, 0, 4}));
  EXPECT_EQ(raw::matmul(zeros({0}), zeros({0})).item<float>(), 0.f);
}

TEST(Matmul, Errors) {
  EXPECT_THAT([] { raw::matmul(zeros({8, 768}), zeros({512, 768})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("matmul: inner dimensions differ: a is (8, 768), b is (512, 768)")));
  EXPECT_THAT([] { raw::matmul(zeros({3}), zeros({4})); },
              ThrowsMessage<ShapeError>(HasSubstr("inner dimensions differ")));
  EXPECT_THAT([] { raw::matmul(zeros({2, 3, 4}), zeros({5, 4, 2})); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "matmul: batch dimensions do not broadcast: a is (2, 3, 4), b is (5, 4, 2)")));
  EXPECT_THAT([] { raw::matmul(scalar_tensor(1.f, kFloat32), zeros({3})); },
              ThrowsMessage<ShapeError>(HasSubstr("at least 1 dimension")));
  EXPECT_THAT([] { raw::matmul(zeros({2, 2}), zeros({2, 2}, {.dtype = kFloat64})); },
              ThrowsMessage<DTypeError>(HasSubstr("float32 and b float64")));
  const Tensor ints = zeros({2, 2}, {.dtype = kInt64});
  EXPECT_THAT([&] { raw::matmul(ints, ints); },
              ThrowsMessage<DTypeError>(HasSubstr("matmul: expected float32 or float64")));
}

TEST(MmBmm, ShapesAndErrors) {
  const Tensor a = random_tensor({4, 5, 6}, 10);
  const Tensor b = random_tensor({4, 6, 3}, 11);
  const Tensor out = raw::bmm(a, b);
  expect_near(out.to_vector<double>(), naive_matmul(a, b, {4, 5, 3}), 1e-5);
  EXPECT_THAT([&] { raw::bmm(a, random_tensor({2, 6, 3}, 12)); },
              ThrowsMessage<ShapeError>(HasSubstr("bmm: batch sizes differ: a is (4, 5, 6)")));
  EXPECT_THAT([&] { raw::bmm(a, zeros({6, 3})); },
              ThrowsMessage<ShapeError>(HasSubstr("bmm: expected 3-D")));
  EXPECT_THAT([&] { raw::mm(a, b); }, ThrowsMessage<ShapeError>(HasSubstr("mm: expected 2-D")));
  EXPECT_THAT([] { raw::mm(zeros({2, 3}), zeros({2, 3})); },
              ThrowsMessage<ShapeError>(HasSubstr("mm: inner dimensions differ")));
}

TEST(Addmm, BetaAlphaAndBroadcastBias) {
  const Tensor a = random_tensor({7, 9}, 13, kFloat64);
  const Tensor b = random_tensor({9, 5}, 14, kFloat64);
  const Tensor bias = random_tensor({5}, 15, kFloat64);
  const Tensor out = raw::addmm(bias, a, b, 0.5, 2.0);
  const std::vector<double> ab = naive_matmul(a, b, {7, 5});
  const std::vector<double> bias_v = bias.to_vector<double>();
  std::vector<double> want;
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t j = 0; j < 5; ++j) want.push_back(0.5 * bias_v[j] + 2.0 * ab[i * 5 + j]);
  expect_near(out.to_vector<double>(), want, 1e-12);
  // beta = 0: bias is ignored, NaN included.
  const Tensor nan_bias = full({7, 5}, kNaN, {.dtype = kFloat64});
  expect_near(raw::addmm(nan_bias, a, b, 0.0, 1.0).to_vector<double>(), ab, 1e-12);
  EXPECT_THAT([&] { raw::addmm(zeros({4}, {.dtype = kFloat64}), a, b); },
              ThrowsMessage<ShapeError>(HasSubstr("addmm")));
}

TEST(Linear, MatchesMatmulPlusBias) {
  const Tensor x = random_tensor({2, 3, 8}, 16);
  const Tensor weight = random_tensor({4, 8}, 17);
  const Tensor bias = random_tensor({4}, 18);
  const Tensor out = raw::linear(x, weight, bias);
  EXPECT_EQ(out.sizes(), (Shape{2, 3, 4}));
  std::vector<double> want = naive_matmul(x, raw::t(weight), {2, 3, 4});
  const std::vector<double> bias_v = bias.to_vector<double>();
  for (size_t i = 0; i < want.size(); ++i) want[i] += bias_v[i % 4];
  expect_near(out.to_vector<double>(), want, 1e-5);
  const Tensor no_bias = raw::linear(random_tensor({8}, 19), weight);
  EXPECT_EQ(no_bias.sizes(), (Shape{4}));
  EXPECT_THAT([&] { raw::linear(x, random_tensor({4, 7}, 20)); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("linear: inner dimensions differ: x is (2, 3, 8), weight is (4, 7)")));
  EXPECT_THAT([&] { raw::linear(x, weight, zeros({5})); },
              ThrowsMessage<ShapeError>(HasSubstr("linear: expected bias (4)")));
}

}  // namespace
}  // namespace ignis
