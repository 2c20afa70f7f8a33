// Tests of the factories: constant fills, arange/linspace (against PyTorch's values), eye,
// tensors from host values.
#include "tensor/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(Factory, ConstantFills) {
  EXPECT_THAT(zeros({2}).to_vector<float>(), ElementsAre(0, 0));
  EXPECT_THAT(ones({2}, {kInt32}).to_vector<int32_t>(), ElementsAre(1, 1));
  Tensor f = full({2, 2}, 2.5, {kFloat64});
  EXPECT_EQ(f.dtype(), kFloat64);
  EXPECT_THAT(f.to_vector<double>(), ElementsAre(2.5, 2.5, 2.5, 2.5));
  EXPECT_EQ(empty({3, 0}).numel(), 0);
  Tensor like = full_like(f, 1);
  EXPECT_EQ(like.sizes(), f.sizes());
  EXPECT_EQ(like.dtype(), kFloat64);
  EXPECT_THAT(zeros_like(f).to_vector<double>(), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(ones_like(f).to_vector<double>(), ElementsAre(1, 1, 1, 1));
  EXPECT_EQ(empty_like(f).sizes(), f.sizes());
  EXPECT_THROW(zeros({2, -1}), ShapeError);
}

TEST(Factory, ScalarTensor) {
  EXPECT_EQ(scalar_tensor(3).dtype(), kInt64);
  EXPECT_EQ(scalar_tensor(3.0).dtype(), kFloat64);
  EXPECT_EQ(scalar_tensor(true).dtype(), kBool);
  EXPECT_EQ(scalar_tensor(3, kFloat32).dtype(), kFloat32);
  EXPECT_EQ(scalar_tensor(3, kFloat32).dim(), 0);
}

TEST(Arange, IntegerAndFloat) {
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_THAT(a.to_vector<int64_t>(), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(arange(1, 10, 3).to_vector<int64_t>(), ElementsAre(1, 4, 7));
  EXPECT_THAT(arange(5, 0, -2).to_vector<int64_t>(), ElementsAre(5, 3, 1));
  Tensor f = arange(0, 1, 0.25);
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_THAT(f.to_vector<float>(), ElementsAre(0, 0.25, 0.5, 0.75));
  // torch.arange(1, 2.5, 0.5) -> [1.0, 1.5, 2.0]; torch.arange(0, 1, 0.1) has 10 elements
  EXPECT_EQ(arange(1, 2.5, 0.5).numel(), 3);
  EXPECT_EQ(arange(0, 1, 0.1).numel(), 10);
  EXPECT_EQ(arange(3, 3).numel(), 0);
  EXPECT_EQ(arange(4, TensorOptions{kFloat64}).dtype(), kFloat64);
  EXPECT_THAT([] { arange(0, 5, 0); },
              ThrowsMessage<ValueError>(HasSubstr("step must be nonzero")));
  EXPECT_THAT([] { arange(5, 0, 1); }, ThrowsMessage<ValueError>(HasSubstr("sign of step")));
}

TEST(Linspace, MatchesTorch) {
  EXPECT_THAT(linspace(0, 1, 5).to_vector<float>(), ElementsAre(0, 0.25, 0.5, 0.75, 1));
  EXPECT_THAT(linspace(-1, 1, 1).to_vector<float>(), ElementsAre(-1));
  EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
  // torch.linspace(0, 1, 7, dtype=float64): both ends exact, second half counted from end
  const std::vector<double> v = linspace(0, 1, 7, {kFloat64}).to_vector<double>();
  EXPECT_EQ(v.front(), 0.0);
  EXPECT_EQ(v.back(), 1.0);
  EXPECT_EQ(v[4], 1.0 - (1.0 / 6.0) * 2);
  EXPECT_EQ(v[2], 0.0 + (1.0 / 6.0) * 2);
  // torch.linspace(0, 10, 4, dtype=torch.int64) -> [0, 3, 6, 10]
  EXPECT_THAT(linspace(0, 10, 4, {kInt64}).to_vector<int64_t>(), ElementsAre(0, 3, 6, 10));
  EXPECT_THROW(linspace(0, 1, -1), ValueError);
}

TEST(Eye, SquareAndRectangular) {
  EXPECT_THAT(eye(2).to_vector<float>(), ElementsAre(1, 0, 0, 1));
  Tensor r = eye(2, 3, {kInt64});
  EXPECT_EQ(r.sizes(), (Shape{2, 3}));
  EXPECT_THAT(r.to_vector<int64_t>(), ElementsAre(1, 0, 0, 0, 1, 0));
}

TEST(FromValues, Overloads) {
  EXPECT_EQ(tensor({1.f, 2.f}).dtype(), kFloat32);
  EXPECT_EQ(tensor({1.0, 2.0}).dtype(), kFloat64);
  EXPECT_EQ(tensor({1, 2}).dtype(), kInt64);
  EXPECT_EQ(tensor({int64_t{1}}).dtype(), kInt64);
  EXPECT_EQ(tensor({true}).dtype(), kBool);
  Tensor m = tensor({{1, 2}, {3, 4}, {5, 6}});
  EXPECT_EQ(m.sizes(), (Shape{3, 2}));
  EXPECT_EQ(tensor({{1.f, 2.f}}).dtype(), kFloat32);
  EXPECT_THAT(
      [] {
        tensor({{1, 2}, {3}});
      },
      ThrowsMessage<ShapeError>(HasSubstr("rows have different lengths")));
  Tensor v = from_vector<uint8_t>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  EXPECT_EQ(v.dtype(), kUInt8);
  EXPECT_EQ(v.sizes(), (Shape{2, 3}));
  EXPECT_THAT(from_vector<bool>({true, false}).to_vector<bool>(), ElementsAre(true, false));
  EXPECT_THAT(
      [] {
        from_vector<float>({1, 2, 3}, Shape{4});
      },
      ThrowsMessage<ShapeError>(HasSubstr("from_vector: 3 values do not fit shape (4,)")));
}

}  // namespace
}  // namespace ignis
