// AccumulateGrad's ownership of leaf gradients: a gradient only the engine holds is kept as
// the leaf's .grad without a copy; any gradient also reachable from elsewhere (the caller's
// tensor, another leaf, a view of a larger buffer) is copied, so no two .grads share memory.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// add's backward hands the same gradient tensor to both inputs.
TEST(AccumulateGrad, LeavesSharingOneGradientGetSeparateCopies) {
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor b = tensor({3.0, 4.0}).requires_grad_();
  (a + b).backward(tensor({1.0, 1.0}));
  EXPECT_NE(a.grad().storage(), b.grad().storage());
  {
    NoGradGuard no_grad;
    a.grad().mul_(7);
  }
  EXPECT_EQ(values(a.grad()), (std::vector<double>{7, 7}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{1, 1}));
}

// A fresh gradient is kept; later backward calls accumulate into it, and nothing the
// caller holds changes.
TEST(AccumulateGrad, FreshGradientIsKeptAndAccumulatedInto) {
  Tensor w = tensor({1.0, 2.0, 3.0}).requires_grad_();
  Tensor g = tensor({1.0, 1.0, 1.0});
  (w * 2).backward(g);
  const Tensor first = w.grad();
  EXPECT_NE(first.storage(), g.storage());
  (w * 3).sum().backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>{5, 5, 5}));
  EXPECT_EQ(values(g), (std::vector<double>{1, 1, 1}));
}

// A gradient that is a view into a larger buffer is copied into a dense tensor of its own.
TEST(AccumulateGrad, ViewGradientIsCopiedDense) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor big = tensor({9.0, 1.0, 1.0, 9.0});
  (x * 1).backward(raw::narrow(big, 0, 1, 2));
  EXPECT_TRUE(x.grad().is_contiguous());
  EXPECT_EQ(x.grad().numel() * 8, static_cast<int64_t>(x.grad().storage()->nbytes()));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1}));
}

}  // namespace
}  // namespace ignis
