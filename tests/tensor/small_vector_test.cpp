// SmallVector (tensor/small_vector.h), the type of Shape: every operation checked against
// std::vector's results, on both sides of the inline capacity.
#include "tensor/small_vector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ignis {
namespace {

using Small = SmallVector<int64_t, 4>;

Small iota(int64_t n) {
  Small v;
  for (int64_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST(SmallVector, ConstructsLikeStdVector) {
  EXPECT_TRUE(Small().empty());
  EXPECT_EQ(Small(3, 7).vec(), (std::vector<int64_t>{7, 7, 7}));
  EXPECT_EQ(Small(6).vec(), std::vector<int64_t>(6, 0));
  EXPECT_EQ((Small{1, 2, 3, 4, 5}).vec(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  const std::vector<int64_t> src = {9, 8, 7, 6, 5, 4};
  EXPECT_EQ(Small(src.begin() + 1, src.end()).vec(), (std::vector<int64_t>{8, 7, 6, 5, 4}));
  const Small from_vector = src;
  EXPECT_EQ(from_vector.vec(), src);
  EXPECT_TRUE(from_vector == src);
  std::istringstream in("3 1 4 1 5");  // a single-pass range
  const Small read{std::istream_iterator<int64_t>(in), std::istream_iterator<int64_t>()};
  EXPECT_EQ(read.vec(), (std::vector<int64_t>{3, 1, 4, 1, 5}));
}

TEST(SmallVector, GrowsOntoTheHeapAndKeepsItsValues) {
  Small v = iota(4);
  EXPECT_EQ(v.capacity(), 4u);  // inline
  v.push_back(4);
  EXPECT_GE(v.capacity(), 5u);
  for (int64_t i = 5; i < 100; ++i) v.push_back(i);
  ASSERT_EQ(v.size(), 100u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(v[static_cast<size_t>(i)], i);
  // An element of the vector itself, pushed when the heap block is full, so that it moves
  // (a use after free under the sanitizer build if push_back read it after reallocating).
  Small full = iota(8);
  ASSERT_EQ(full.capacity(), 8u);
  full.push_back(full[1]);
  EXPECT_EQ(full.back(), 1);
}

TEST(SmallVector, CopiesAndMovesInlineAndHeapValues) {
  for (int64_t n : {0, 3, 4, 9}) {
    SCOPED_TRACE(n);
    const Small original = iota(n);
    Small copy = original;
    EXPECT_EQ(copy, original);
    Small moved = std::move(copy);
    EXPECT_EQ(moved, original);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    Small assigned{42};
    assigned = moved;
    EXPECT_EQ(assigned, original);
    Small move_assigned = iota(7);
    move_assigned = std::move(assigned);
    EXPECT_EQ(move_assigned, original);
    const Small& self = move_assigned;
    move_assigned = self;  // self-assignment keeps the values
    EXPECT_EQ(move_assigned, original);
    Small other = iota(11);
    other.swap(move_assigned);
    EXPECT_EQ(other, original);
    EXPECT_EQ(move_assigned, iota(11));
  }
}

TEST(SmallVector, InsertsAndErasesLikeStdVector) {
  for (int64_t n : {0, 2, 4, 6}) {
    for (int64_t at = 0; at <= n; ++at) {
      SCOPED_TRACE(testing::Message() << "n " << n << " at " << at);
      Small v = iota(n);
      std::vector<int64_t> want = v.vec();
      v.insert(v.begin() + at, -1);
      want.insert(want.begin() + at, -1);
      EXPECT_EQ(v.vec(), want);
      v.insert(v.begin() + at, 3, -2);
      want.insert(want.begin() + at, 3, -2);
      EXPECT_EQ(v.vec(), want);
      const Small copy = v;
      v.insert(v.begin() + at, v.begin(), v.end());  // a range of the vector itself
      want.insert(want.begin() + at, copy.begin(), copy.end());
      EXPECT_EQ(v.vec(), want);
      v.erase(v.begin() + at);
      want.erase(want.begin() + at);
      EXPECT_EQ(v.vec(), want);
      v.erase(v.begin(), v.begin() + at);
      want.erase(want.begin(), want.begin() + at);
      EXPECT_EQ(v.vec(), want);
    }
  }
}

TEST(SmallVector, ResizesAndCompares) {
  Small v{1, 2};
  v.resize(6, 9);
  EXPECT_EQ(v.vec(), (std::vector<int64_t>{1, 2, 9, 9, 9, 9}));
  v.resize(1);
  EXPECT_EQ(v.vec(), (std::vector<int64_t>{1}));
  v.pop_back();
  EXPECT_TRUE(v.empty());
  v.assign(2, 5);
  EXPECT_EQ(v.vec(), (std::vector<int64_t>{5, 5}));
  v = {3, 4, 5};
  EXPECT_EQ(v.front(), 3);
  EXPECT_EQ(v.at(2), 5);
  EXPECT_THROW(v.at(3), std::out_of_range);
  EXPECT_EQ(std::vector<int64_t>(v.rbegin(), v.rend()), (std::vector<int64_t>{5, 4, 3}));
  EXPECT_LT((Small{1, 2}), (Small{1, 3}));
  EXPECT_LT((Small{1, 2}), (Small{1, 2, 0}));
  EXPECT_NE((Small{1, 2}), (Small{1, 2, 0}));
  v.clear();
  EXPECT_TRUE(v.empty());
}

// Shape is a SmallVector: a tensor of up to 6 dimensions keeps its sizes and strides inline.
TEST(SmallVector, ShapeHoldsSixDimensionsInline) {
  const Shape shape{2, 3, 4, 5, 6, 7};
  const auto inside = [](const Shape& s) {
    const auto* p = reinterpret_cast<const char*>(s.data());
    return p >= reinterpret_cast<const char*>(&s) && p < reinterpret_cast<const char*>(&s + 1);
  };
  EXPECT_TRUE(inside(shape));
  const Shape copy = shape;
  EXPECT_TRUE(inside(copy));
  EXPECT_EQ(copy, shape);
  Shape seven = shape;
  seven.push_back(8);
  EXPECT_FALSE(inside(seven));
}

}  // namespace
}  // namespace ignis
