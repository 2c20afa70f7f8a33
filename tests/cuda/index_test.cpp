// CPU-vs-CUDA parity of the index slots (index_select, gather, scatter_add) and of the ops
// built on them (embedding, one_hot), forward and backward. The kernels only move or add
// numbers in the CPU's order, so results agree exactly, repeated indices included.
// Skipped without a CUDA device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/indexing.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/backend.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using test::normal;
using test::tensors_close;

class CudaIndex : public test::CudaTest {};


// Indices in [0, high), with repeats, of `dtype` (int32 or int64).
Tensor indices(const Shape& shape, int64_t high, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randint(0, high, shape, {.dtype = kInt64}, &gen).to(dtype);
}

// Exact by default: index kernels only move numbers, and scatter_add adds in the CPU's order.
::testing::AssertionResult same(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                                test::Tolerance tol = {}) {
  if (!gpu.is_cuda()) return ::testing::AssertionFailure() << what << ": result not on CUDA";
  return tensors_close(what, gpu.cpu(), cpu, tol);
}

TEST_F(CudaIndex, IndexSelectEveryDimAndDtype) {
  for (const DType dtype : {kFloat32, kFloat64, kInt64, kUInt8, kBool}) {
    const Tensor x = normal({5, 6, 7}, kFloat64, 1).to(dtype);
    for (const DType index_dtype : {kInt32, kInt64}) {
      for (const int64_t dim : {0, 1, 2}) {
        const Tensor index = indices({9}, x.size(dim), index_dtype, 2);
        EXPECT_TRUE(same("index_select dim " + std::to_string(dim) + " " + dtype_name(dtype),
                         raw::index_select(x.cuda(), dim, index.cuda()),
                         raw::index_select(x, dim, index)));
      }
    }
  }
  const Tensor x = normal({4, 3}, kFloat32, 3);
  const Tensor none = zeros({0}, {.dtype = kInt64});
  EXPECT_TRUE(same("index_select with no index", raw::index_select(x.cuda(), 0, none.cuda()),
                   raw::index_select(x, 0, none)));
}

TEST_F(CudaIndex, GatherWithStridedOperands) {
  for (const DType dtype : {kFloat32, kFloat64, kInt32}) {
    const Tensor x = normal({6, 8, 5}, kFloat64, 4).to(dtype);
    for (const int64_t dim : {0, 1, 2}) {
      Shape shape{6, 8, 5};
      shape[static_cast<size_t>(dim)] = 11;  // longer than x along dim: repeats
      shape[2] = 3;                           // shorter than x off dim
      if (dim == 2) shape[2] = 11;
      const Tensor index = indices(shape, x.size(dim), kInt64, 5);
      EXPECT_TRUE(same("gather dim " + std::to_string(dim) + " " + dtype_name(dtype),
                       raw::gather(x.cuda(), dim, index.cuda()), raw::gather(x, dim, index)));
    }
    // A transposed input and a transposed index.
    const Tensor xt = raw::transpose(x, 0, 2);  // (5, 8, 6)
    const Tensor it = raw::transpose(indices({4, 8, 5}, 5, kInt32, 6), 0, 2);  // (5, 8, 4)
    EXPECT_TRUE(same("gather, transposed operands", raw::gather(xt.cuda(), 0, it.cuda()),
                     raw::gather(xt, 0, it)));
  }
}

TEST_F(CudaIndex, ScatterAddWithRepeatedIndicesIsExact) {
  for (const DType dtype : {kFloat32, kFloat64, kInt64}) {
    for (const int64_t dim : {0, 1}) {
      const Tensor x = normal({7, 9}, kFloat64, 7).to(dtype);
      const Shape shape = dim == 0 ? Shape{40, 9} : Shape{7, 40};
      const Tensor index = indices(shape, x.size(dim), kInt64, 8);
      const Tensor src = normal(shape, kFloat64, 9).to(dtype);
      EXPECT_TRUE(same("scatter_add dim " + std::to_string(dim) + " " + dtype_name(dtype),
                       raw::scatter_add(x.cuda(), dim, index.cuda(), src.cuda()),
                       raw::scatter_add(x, dim, index, src)));
    }
  }
  // src larger than index (only index's extent is read) and a transposed destination.
  const Tensor x = raw::transpose(normal({9, 7}, kFloat32, 10), 0, 1);  // (7, 9)
  const Tensor index = indices({5, 4}, 7, kInt32, 11);
  const Tensor src = normal({6, 8}, kFloat32, 12);
  const Tensor xg = x.cuda().contiguous(), xc = x.contiguous();
  raw::scatter_add_(xg, 0, index.cuda(), src.cuda());
  raw::scatter_add_(xc, 0, index, src);
  EXPECT_TRUE(same("scatter_add_ in place", xg, xc));
}

TEST_F(CudaIndex, EmbeddingAndOneHot) {
  const Tensor weight = normal({50, 16}, kFloat32, 13);
  const Tensor ids = indices({4, 12}, 50, kInt64, 14);
  EXPECT_TRUE(same("embedding", raw::embedding(weight.cuda(), ids.cuda()),
                   raw::embedding(weight, ids)));
  EXPECT_TRUE(same("one_hot", raw::one_hot(ids.cuda(), 50), raw::one_hot(ids, 50)));
}

TEST_F(CudaIndex, OutOfRangeIndexIsAnErrorOnTheDeviceToo) {
  const Tensor x = normal({4, 3}, kFloat32, 15);
  const Tensor bad = from_vector(std::vector<int64_t>{0, 4});
  EXPECT_THAT([&] { raw::index_select(x.cuda(), 0, bad.cuda()); },
              ::testing::ThrowsMessage<IndexError>(::testing::HasSubstr("index 4")));
  EXPECT_THAT([&] { raw::gather(x.cuda(), 0, raw::view(bad, {2, 1}).cuda()); },
              ::testing::ThrowsMessage<IndexError>(::testing::HasSubstr("index 4")));
}

// Backward of index_select, gather and embedding is a scatter_add of the gradient; the
// elementwise steps around it may contract a * b + c into one rounding on the GPU, hence
// the ulp-sized tolerance.
TEST_F(CudaIndex, Backward) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor x0 = normal({10, 6}, dtype, 16);
    const Tensor sel = indices({25}, 10, kInt64, 17);
    const Tensor gat = indices({10, 15}, 6, kInt64, 18);
    const Tensor ids = indices({3, 20}, 10, kInt64, 19);
    const Tensor w0 = normal({25, 6}, dtype, 20);
    auto grad = [](const Tensor& x_in, const Tensor& s, const Tensor& g, const Tensor& e,
                   const Tensor& w) {
      const Tensor x = x_in.detach().requires_grad_();
      Tensor loss = sum(mul(index_select(x, 0, s), w));
      loss = add(loss, sum(mul(gather(x, 1, g), gather(x, 1, g))));
      loss = add(loss, sum(embedding(x, e)));
      loss.backward();
      return x.grad();
    };
    EXPECT_TRUE(same(std::string("dx ") + dtype_name(dtype),
                     grad(x0.cuda(), sel.cuda(), gat.cuda(), ids.cuda(), w0.cuda()),
                     grad(x0, sel, gat, ids, w0),
                     dtype == kFloat32 ? test::Tolerance{1e-6, 1e-7}
                                       : test::Tolerance{1e-14, 1e-15}));
  }
}

}  // namespace
}  // namespace ignis
