// Tests of the raw views: shapes, strides, offsets, aliasing, and error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

Tensor iota(const Shape& shape) { return raw::reshape(arange(numel_of(shape)), shape); }

TEST(View, InfersMinusOneAndSharesStorage) {
  Tensor x = arange(12);
  Tensor v = raw::view(x, {3, -1});
  EXPECT_EQ(v.sizes(), (Shape{3, 4}));
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  EXPECT_EQ(v.storage(), x.storage());
  EXPECT_FALSE(v.is_same(x));
}

TEST(View, ErrorsNameOpAndShapes) {
  Tensor x = arange(12);
  EXPECT_THAT(
      [&] {
        raw::view(x, {5, -1});
      },
      ThrowsMessage<ShapeError>(HasSubstr("view: shape (5, -1) is invalid for input of size 12")));
  EXPECT_THAT(
      [&] {
        raw::view(x, {-1, -1});
      },
      ThrowsMessage<ShapeError>(HasSubstr("only one dimension can be -1")));
  Tensor t = raw::transpose(iota({3, 4}), 0, 1);
  EXPECT_THAT([&] { raw::view(t, {12}); },
              ThrowsMessage<ShapeError>(HasSubstr("input (4, 3) with strides (1, 4)")));
  EXPECT_THROW(raw::view(zeros({0, 3}), {-1, 0}), ShapeError);
}

TEST(View, StrideCompatibleNonContiguous) {
  // (2, 3, 4) permuted to (3, 4, 2)... keep the last two dims together: a view exists.
  Tensor x = iota({2, 3, 4});
  Tensor p = raw::permute(x, {1, 0, 2});  // (3, 2, 4) strides (4, 12, 1)
  Tensor v = raw::view(p, {3, 2, 2, 2});
  EXPECT_EQ(v.strides(), (Shape{4, 12, 2, 1}));
  EXPECT_EQ(raw::view(p, {3, 2, 2, 2}).to_vector<int64_t>(), p.to_vector<int64_t>());
  Tensor e = raw::expand(tensor({1.f}), {4, 3});
  EXPECT_EQ(raw::view(e, {12}).strides(), (Shape{0}));
  EXPECT_EQ(raw::view(scalar_tensor(1.0), {1, 1}).sizes(), (Shape{1, 1}));
  EXPECT_EQ(raw::view(tensor({5.f}), {}).dim(), 0);
}

TEST(Reshape, CopiesOnlyWhenNeeded) {
  Tensor x = iota({3, 4});
  EXPECT_EQ(raw::reshape(x, {4, 3}).storage(), x.storage());
  Tensor t = raw::transpose(x, 0, 1);
  Tensor r = raw::reshape(t, {12});
  EXPECT_NE(r.storage(), x.storage());
  EXPECT_THAT(r.to_vector<int64_t>(), ElementsAre(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11));
}

TEST(Flatten, Ranges) {
  Tensor x = zeros({2, 3, 4, 5});
  EXPECT_EQ(raw::flatten(x).sizes(), (Shape{120}));
  EXPECT_EQ(raw::flatten(x, 1).sizes(), (Shape{2, 60}));
  EXPECT_EQ(raw::flatten(x, 1, 2).sizes(), (Shape{2, 12, 5}));
  EXPECT_EQ(raw::flatten(scalar_tensor(1.0)).sizes(), (Shape{1}));
  EXPECT_THROW(raw::flatten(x, 2, 1), IndexError);
}

TEST(Squeeze, AllAndOne) {
  Tensor x = zeros({1, 3, 1, 2});
  EXPECT_EQ(raw::squeeze(x).sizes(), (Shape{3, 2}));
  EXPECT_EQ(raw::squeeze(x, 2).sizes(), (Shape{1, 3, 2}));
  EXPECT_EQ(raw::squeeze(x, 1).sizes(), (Shape{1, 3, 1, 2}));  // not size 1: unchanged
  EXPECT_EQ(raw::squeeze(x, -4).sizes(), (Shape{3, 1, 2}));
  EXPECT_THROW(raw::squeeze(x, 4), IndexError);
}

TEST(Unsqueeze, Positions) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(raw::unsqueeze(x, 0).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(raw::unsqueeze(x, 2).sizes(), (Shape{2, 3, 1}));
  EXPECT_EQ(raw::unsqueeze(x, -1).sizes(), (Shape{2, 3, 1}));
  EXPECT_EQ(raw::unsqueeze(x, 1).strides(), (Shape{3, 3, 1}));
  EXPECT_EQ(raw::unsqueeze(scalar_tensor(1.0), 0).sizes(), (Shape{1}));
  EXPECT_THROW(raw::unsqueeze(x, 3), IndexError);
}

TEST(Permute, Validates) {
  Tensor x = iota({2, 3, 4});
  Tensor p = raw::permute(x, {2, 0, 1});
  EXPECT_EQ(p.sizes(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_THAT(
      [&] {
        raw::permute(x, {0, 0, 1});
      },
      ThrowsMessage<ShapeError>(HasSubstr("permute: dims (0, 0, 1) repeat dimension 0")));
  EXPECT_THAT([&] { raw::permute(x, {0, 1}); }, ThrowsMessage<ShapeError>(HasSubstr("(2, 3, 4)")));
}

TEST(Transpose, AndT) {
  Tensor x = iota({2, 3});
  EXPECT_THAT(raw::t(x).to_vector<int64_t>(), ElementsAre(0, 3, 1, 4, 2, 5));
  EXPECT_EQ(raw::t(arange(3)).sizes(), (Shape{3}));
  EXPECT_THAT(
      [] {
        raw::t(zeros({2, 2, 2}));
      },
      ThrowsMessage<ShapeError>(HasSubstr("t: expects a tensor with <= 2 dimensions")));
}

TEST(Slice, ClampsWrapsAndSteps) {
  Tensor x = arange(10);
  EXPECT_THAT(raw::slice(x, 0, 2, 8, 3).to_vector<int64_t>(), ElementsAre(2, 5));
  EXPECT_THAT(raw::slice(x, 0, -3, 100).to_vector<int64_t>(), ElementsAre(7, 8, 9));
  EXPECT_EQ(raw::slice(x, 0, 8, 2).numel(), 0);
  EXPECT_EQ(raw::slice(x, 0, -100, 2).numel(), 2);
  Tensor m = iota({3, 4});
  Tensor s = raw::slice(m, 1, 1, 4, 2);
  EXPECT_EQ(s.sizes(), (Shape{3, 2}));
  EXPECT_EQ(s.strides(), (Shape{4, 2}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_THAT([&] { raw::slice(x, 0, 0, 5, 0); },
              ThrowsMessage<ValueError>(HasSubstr("slice: step")));
}

TEST(Narrow, Bounds) {
  Tensor x = arange(5);
  EXPECT_THAT(raw::narrow(x, 0, 1, 3).to_vector<int64_t>(), ElementsAre(1, 2, 3));
  EXPECT_THAT(raw::narrow(x, 0, -2, 2).to_vector<int64_t>(), ElementsAre(3, 4));
  EXPECT_THAT(
      [&] { raw::narrow(x, 0, 3, 3); },
      ThrowsMessage<IndexError>(HasSubstr("narrow: start 3 and length 3 are out of range")));
}

TEST(Select, NegativeIndexAndErrors) {
  Tensor m = iota({3, 4});
  EXPECT_THAT(raw::select(m, 0, -1).to_vector<int64_t>(), ElementsAre(8, 9, 10, 11));
  EXPECT_THAT(raw::select(m, 1, 2).to_vector<int64_t>(), ElementsAre(2, 6, 10));
  EXPECT_EQ(raw::select(raw::select(m, 0, 1), 0, 2).item<int64_t>(), 6);
  EXPECT_THAT(
      [&] { raw::select(m, 0, 3); },
      ThrowsMessage<IndexError>(HasSubstr("select: index 3 is out of range for dim 0 of size 3")));
}

TEST(Expand, BroadcastsWithZeroStrides) {
  Tensor x = from_vector<float>({1, 2}, Shape{2, 1});
  Tensor e = raw::expand(x, {3, 2, -1});
  EXPECT_EQ(e.sizes(), (Shape{3, 2, 1}));
  Tensor f = raw::expand(x, {2, 4});
  EXPECT_EQ(f.strides(), (Shape{1, 0}));
  EXPECT_THAT(f.to_vector<float>(), ElementsAre(1, 1, 1, 1, 2, 2, 2, 2));
  EXPECT_EQ(raw::broadcast_to(scalar_tensor(3.0), {2, 2}).strides(), (Shape{0, 0}));
  EXPECT_THAT(
      [&] {
        raw::expand(x, {3, 4});
      },
      ThrowsMessage<ShapeError>(HasSubstr("expand: the size 2 of dim 0 cannot be expanded to 3")));
  EXPECT_THAT([&] { raw::expand(x, {4}); },
              ThrowsMessage<ShapeError>(HasSubstr("fewer dimensions")));
  EXPECT_THROW(raw::expand(x, {-1, 2, 4}), ShapeError);
}

TEST(Split, AsTorch) {
  Tensor x = arange(10);
  std::vector<Tensor> parts = raw::split(x, 4);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_THAT(parts[2].to_vector<int64_t>(), ElementsAre(8, 9));
  EXPECT_EQ(raw::split(zeros({0}), 3).size(), 1u);
  std::vector<Tensor> sized = raw::split_with_sizes(iota({2, 5}), {1, 4}, 1);
  EXPECT_EQ(sized[1].sizes(), (Shape{2, 4}));
  EXPECT_THAT(
      [&] {
        raw::split_with_sizes(x, {3, 3});
      },
      ThrowsMessage<ShapeError>(HasSubstr("split_with_sizes: sizes (3, 3) sum to 6")));
}

TEST(Chunk, AsTorch) {
  EXPECT_EQ(raw::chunk(arange(10), 3).size(), 3u);  // 4, 4, 2
  EXPECT_EQ(raw::chunk(arange(10), 3)[2].numel(), 2);
  EXPECT_EQ(raw::chunk(arange(6), 4).size(), 3u);  // 2, 2, 2 as torch
  EXPECT_EQ(raw::chunk(zeros({0}), 2).size(), 2u);
  EXPECT_THROW(raw::chunk(arange(3), 0), ValueError);
}

TEST(Alias, NewImplSameData) {
  Tensor x = arange(3);
  Tensor a = raw::alias(x);
  EXPECT_FALSE(a.is_same(x));
  EXPECT_EQ(a.raw_data(), x.raw_data());
}

}  // namespace
}  // namespace ignis
