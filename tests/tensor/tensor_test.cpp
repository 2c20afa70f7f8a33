// Tests of the Tensor data structure: accessors, shape helpers, make_tensor/make_view,
// item/to_vector/data_ptr, storage and printing.
#include "tensor/backend.h"
#include "tensor/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/storage.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(Tensor, MakeTensorIsContiguous) {
  Tensor t = make_tensor({2, 3, 4}, kFloat32, Device::cpu());
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(t.storage_offset(), 0);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.stride(-3), 12);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % kCpuAlignment, 0u);
}

TEST(Tensor, ZeroSizeAndScalar) {
  Tensor empty = make_tensor({0, 3}, kInt64, Device::cpu());
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_TRUE(empty.is_contiguous());
  Tensor s = make_tensor({}, kFloat64, Device::cpu());
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_THROW(s.size(0), IndexError);
}

TEST(Tensor, UndefinedTensorThrowsNamingTheCall) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_THAT([&] { t.sizes(); },
              ThrowsMessage<ValueError>(HasSubstr("sizes: called on an undefined tensor")));
  EXPECT_THAT([&] { t.numel(); }, ThrowsMessage<ValueError>(HasSubstr("numel")));
}

TEST(Tensor, SizeOutOfRange) {
  Tensor t = zeros({2, 3});
  EXPECT_THAT([&] { t.size(2); },
              ThrowsMessage<IndexError>(HasSubstr("size: dimension 2 is out of range")));
  EXPECT_THROW(t.stride(-3), IndexError);
}

TEST(Tensor, IsContiguousIgnoresSizeOneStrides) {
  Tensor base = zeros({4, 1, 3});
  Tensor v = make_view(base, {4, 1, 3}, {3, 100, 1}, 0);
  EXPECT_TRUE(v.is_contiguous());
  EXPECT_FALSE(raw::transpose(base, 0, 2).is_contiguous());
}

TEST(Tensor, ShapeHelpers) {
  EXPECT_EQ(shape_str({2, 3}), "(2, 3)");
  EXPECT_EQ(shape_str({4}), "(4,)");
  EXPECT_EQ(shape_str({}), "()");
  EXPECT_EQ(numel_of({2, 0, 3}), 0);
  EXPECT_EQ(numel_of({}), 1);
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(wrap_dim(-1, 3, "op"), 2);
  EXPECT_EQ(wrap_dim(0, 0, "op"), 0);
  EXPECT_THAT([] { wrap_dim(3, 3, "sum"); },
              ThrowsMessage<IndexError>(HasSubstr("sum: dimension 3")));
}

TEST(Tensor, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}, "add"), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {5}, "add"), (Shape{5}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 3}, "add"), (Shape{0, 3}));
  EXPECT_THAT(
      [] {
        broadcast_shapes({2, 3}, {4}, "add");
      },
      ThrowsMessage<ShapeError>(HasSubstr("add: shapes (2, 3) and (4,) cannot be broadcast")));
}

TEST(Tensor, DataPtrChecksDtype) {
  Tensor t = tensor({1.f, 2.f});
  EXPECT_EQ(t.data_ptr<float>()[1], 2.f);
  EXPECT_THAT([&] { t.data_ptr<double>(); },
              ThrowsMessage<DTypeError>(HasSubstr("tensor is float32, requested float64")));
}

TEST(Tensor, ItemAndToVector) {
  EXPECT_EQ(tensor({2.5f}).item<float>(), 2.5f);
  EXPECT_EQ(tensor({2.5f}).item<int64_t>(), 2);
  EXPECT_EQ(scalar_tensor(7).item<double>(), 7.0);
  EXPECT_THAT(
      [] {
        zeros({2, 3}).item<float>();
      },
      ThrowsMessage<ValueError>(HasSubstr("6 elements (shape (2, 3))")));
  Tensor m = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(m.dtype(), kInt64);
  EXPECT_THAT(raw::transpose(m, 0, 1).to_vector<int64_t>(), ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_THAT(m.to_vector<double>(), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(tensor({0.f, 0.5f}).to_vector<bool>(), ElementsAre(false, true));
  EXPECT_TRUE(zeros({0}).to_vector<float>().empty());
}

TEST(Tensor, MakeViewSharesStorage) {
  Tensor base = arange(6);
  Tensor v = make_view(base, {2}, {2}, 1);
  EXPECT_EQ(v.storage(), base.storage());
  EXPECT_THAT(v.to_vector<int64_t>(), ElementsAre(1, 3));
  EXPECT_THROW(make_view(base, {4}, {2}, 0), InternalError);
}

TEST(Tensor, VersionCounterCountsInPlaceWrites) {
  Tensor t = zeros({3});
  const uint64_t v0 = t.version();
  raw::fill_(t, 1);
  raw::copy_(t, ones({3}));
  EXPECT_EQ(t.version(), v0 + 2);
  EXPECT_EQ(raw::select(t, 0, 0).version(), t.version());  // views share the counter
}

TEST(Storage, AllocatorRegistry) {
  EXPECT_EQ(allocator_for(Device::cpu()), cpu_allocator());
  Storage empty(0, Device::cpu());
  EXPECT_NE(empty.data(), nullptr);
  EXPECT_EQ(empty.nbytes(), 0u);
  if (cuda::is_compiled()) return;  // the CUDA backend registered its allocator
  EXPECT_THAT([] { allocator_for(Device::cuda()); },
              ThrowsMessage<DeviceError>(HasSubstr("no allocator for cuda:0")));
  EXPECT_THROW(zeros({2}, {kFloat32, Device::cuda()}), DeviceError);
}

TEST(Storage, WrapsForeignMemory) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3});
  auto storage = std::make_shared<Storage>(owner->data(), 12, Device::cpu(), owner);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage;
  impl->sizes = {3};
  impl->strides = {1};
  Tensor t(impl);
  EXPECT_THAT(t.to_vector<float>(), ElementsAre(1, 2, 3));
}

TEST(Dispatch, MissingKernelNamesOpAndDevice) {
  if (cuda::is_compiled()) GTEST_SKIP() << "the CUDA backend fills the CUDA table";
  EXPECT_THAT(
      [] { get_kernel(&KernelTable::unary, Device::cuda(), "exp"); },
      ThrowsMessage<DeviceError>(HasSubstr("exp: no cuda kernel (ignis was built without CUDA)")));
  EXPECT_NE(kernel_table(DeviceType::CPU).copy, nullptr);
}

// ---- printing ----

TEST(Print, FloatMatrix) {
  EXPECT_EQ(tensor({{1.f, 2.f}, {3.f, 4.5f}}).str(),
            "tensor([[1.0000, 2.0000],\n"
            "        [3.0000, 4.5000]], dtype=float32, shape=(2, 2))");
}

TEST(Print, CommonWidthAndNegatives) {
  EXPECT_EQ(tensor({-1.5, 10.25}).str(), "tensor([-1.5000, 10.2500], dtype=float64, shape=(2,))");
  EXPECT_EQ(tensor({1, -20, 300}).str(), "tensor([  1, -20, 300], dtype=int64, shape=(3,))");
}

TEST(Print, ScientificWhenMagnitudesSpread) {
  EXPECT_EQ(tensor({1e-5f, 1.f}).str(),
            "tensor([1.0000e-05, 1.0000e+00], dtype=float32, shape=(2,))");
}

TEST(Print, BoolScalarEmptyAndSpecialValues) {
  EXPECT_EQ(tensor({true, false}).str(), "tensor([ True, False], dtype=bool, shape=(2,))");
  EXPECT_EQ(scalar_tensor(1.5, kFloat32).str(), "tensor(1.5000, dtype=float32, shape=())");
  EXPECT_EQ(zeros({0, 3}).str(), "tensor([], dtype=float32, shape=(0, 3))");
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(tensor({std::numeric_limits<float>::quiet_NaN(), -inf, 1.f}).str(),
            "tensor([   nan,   -inf, 1.0000], dtype=float32, shape=(3,))");
}

TEST(Print, ThreeDimsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(raw::reshape(arange(8), {2, 2, 2}).str(),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]], dtype=int64, shape=(2, 2, 2))");
}

TEST(Print, ElidesLargeTensors) {
  const std::string s = raw::reshape(arange(2000), {100, 20}).str();
  EXPECT_THAT(s, HasSubstr("tensor([[   0,    1,    2,  ...,   17,   18,   19],\n"
                           "        [  20,   21,   22,  ...,   37,   38,   39],"));
  EXPECT_THAT(s, HasSubstr("        ...,\n        [1940, 1941, 1942,  ..., 1957, 1958, 1959],"));
  EXPECT_THAT(s, HasSubstr("dtype=int64, shape=(100, 20))"));
  EXPECT_EQ(arange(1001).str().find("1000"), arange(1001).str().rfind("1000"));
  EXPECT_THAT(arange(1001).str(), HasSubstr("   2,  ...,  998"));
}

TEST(Print, WrapsLongRows) {
  const std::string s = arange(30).str();
  EXPECT_THAT(s, HasSubstr("\n        "));  // continuation lines align under the first value
}

}  // namespace
}  // namespace ignis
