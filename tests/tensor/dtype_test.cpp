// Tests of dtype properties, promotion, Device parsing and Scalar printing.
#include "tensor/dtype.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor/device.h"
#include "tensor/scalar.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(DType, ItemsizeAndNames) {
  EXPECT_EQ(itemsize(kBool), 1u);
  EXPECT_EQ(itemsize(kUInt8), 1u);
  EXPECT_EQ(itemsize(kInt32), 4u);
  EXPECT_EQ(itemsize(kInt64), 8u);
  EXPECT_EQ(itemsize(kFloat32), 4u);
  EXPECT_EQ(itemsize(kFloat64), 8u);
  EXPECT_STREQ(dtype_name(kFloat32), "float32");
  EXPECT_STREQ(dtype_name(kUInt8), "uint8");
  EXPECT_STREQ(dtype_name(kBool), "bool");
}

TEST(DType, Categories) {
  EXPECT_TRUE(is_floating_point(kFloat64));
  EXPECT_FALSE(is_floating_point(kInt64));
  EXPECT_TRUE(is_integral(kInt32, false));
  EXPECT_FALSE(is_integral(kBool, false));
  EXPECT_TRUE(is_integral(kBool, true));
  EXPECT_FALSE(is_integral(kFloat32, true));
}

TEST(DType, PromotionMatchesTorch) {
  // Values from torch.promote_types.
  EXPECT_EQ(promote_types(kInt32, kFloat32), kFloat32);
  EXPECT_EQ(promote_types(kUInt8, kInt32), kInt32);
  EXPECT_EQ(promote_types(kBool, kUInt8), kUInt8);
  EXPECT_EQ(promote_types(kInt64, kFloat32), kFloat32);
  EXPECT_EQ(promote_types(kFloat64, kFloat32), kFloat64);
  EXPECT_EQ(promote_types(kInt64, kInt32), kInt64);
  EXPECT_EQ(promote_types(kBool, kBool), kBool);
  const DType all[] = {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64};
  for (DType a : all) {
    for (DType b : all) EXPECT_EQ(promote_types(a, b), promote_types(b, a));
  }
}

TEST(DType, VisitFloatingRejectsIntegers) {
  EXPECT_THAT(
      [] { visit_floating(kInt64, "exp", []<typename T>() { return 0; }); },
      ThrowsMessage<DTypeError>(HasSubstr("exp: expected a floating-point tensor, got int64")));
}

TEST(Device, ParseAndStr) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  EXPECT_EQ(Device::cuda(2).str(), "cuda:2");
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_THAT([] { Device::parse("gpu"); }, ThrowsMessage<ValueError>(HasSubstr("'gpu'")));
  EXPECT_THROW(Device::parse("cuda:"), ValueError);
  EXPECT_THROW(Device::parse("cuda:x"), ValueError);
  EXPECT_THROW(Device::parse("cuda:-1"), ValueError);
}

TEST(Scalar, StrAndKinds) {
  EXPECT_EQ(Scalar(true).str(), "True");
  EXPECT_EQ(Scalar(3).str(), "3");
  EXPECT_EQ(Scalar(2.5).str(), "2.5");
  EXPECT_EQ(Scalar(1.0).str(), "1.0");
  EXPECT_EQ(Scalar(1e-5).str(), "1e-05");
  EXPECT_EQ(Scalar(2.5f).dtype(), kFloat64);
  EXPECT_EQ(Scalar(int32_t{2}).dtype(), kInt64);
  EXPECT_EQ(Scalar(false).dtype(), kBool);
  EXPECT_EQ(Scalar(2.7).to<int64_t>(), 2);
}

}  // namespace
}  // namespace ignis
