// Gradchecks of autograd/indexing.h: index ops, joining, softmax, and every view (free
// functions and Tensor methods), on contiguous, transposed, strided and empty inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "autograd/indexing.h"
#include "autograd/reductions.h"
#include "gradcheck_util.h"

namespace ignis {
namespace {

using testing::gradcheck_ok;
using testing::kLayouts;
using testing::Layout;
using testing::layout_name;
using testing::leaf;
using testing::Values;
using Inputs = std::vector<Tensor>;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// fn on a (3, 4) input of each layout.
void check_layouts(const std::function<Tensor(const Tensor&)>& fn, const Shape& shape = {3, 4}) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return fn(in[0]); }, {leaf(shape, layout)}));
  }
}

TEST(IndexingGradcheck, IndexSelect) {
  Tensor index = tensor({2, 0, 2});  // a repeated row gets both gradients
  check_layouts([&](const Tensor& x) { return index_select(x, 0, index); });
  check_layouts([&](const Tensor& x) { return index_select(x, 1, index); });
  check_layouts([&](const Tensor& x) { return index_select(x, -1, tensor({3})); });
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return index_select(in[0], 1, index); },
                           {leaf({0, 4})}))
      << "empty";
}

TEST(IndexingGradcheck, Gather) {
  Tensor index = tensor({{0, 3}, {1, 1}, {2, 0}});
  check_layouts([&](const Tensor& x) { return gather(x, 1, index); });
  Tensor index0 = tensor({{0, 2, 2, 1}});
  check_layouts([&](const Tensor& x) { return gather(x, 0, index0); });
}

TEST(IndexingGradcheck, ScatterAdd) {
  Tensor index = tensor({{0, 1, 2, 0}, {2, 2, 1, 0}});
  auto fn = [&](const Inputs& in) { return scatter_add(in[0], 0, index, in[1]); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout), leaf({2, 4}, layout, Values::Normal, 2)}));
  }
  Tensor small = tensor({{1, 0}});
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return scatter_add(in[0], 0, small, in[1]); },
                           {leaf({3, 4}), leaf({2, 3}, Layout::Contiguous, Values::Normal, 2)}))
      << "index smaller than src";
}

TEST(IndexingGradcheck, Embedding) {
  Tensor indices = tensor({{1, 3}, {1, 0}});
  check_layouts([&](const Tensor& w) { return embedding(w, indices); }, {4, 3});
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return embedding(in[0], zeros({0}, {.dtype = kInt64})); },
                           {leaf({4, 3})}))
      << "no indices";
}

TEST(IndexingGradcheck, OneHotIsNotDifferentiable) {
  Tensor t = one_hot(tensor({0, 2}), 3);
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_FALSE(t.requires_grad());
}

TEST(IndexingGradcheck, CatStack) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return cat(in, 0); },
                             {leaf({2, 4}, layout), leaf({3, 4}, layout, Values::Normal, 2)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return cat(in, -1); },
                             {leaf({3, 2}, layout), leaf({3, 4}, layout, Values::Normal, 2)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return stack(in, 1); },
                             {leaf({3, 4}, layout), leaf({3, 4}, layout, Values::Normal, 2)}));
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return cat(in, 0); },
                           {leaf({0, 4}), leaf({3, 4}, Layout::Contiguous, Values::Normal, 2)}))
      << "empty part";
  Tensor constant = zeros({1, 4}, {.dtype = kFloat64});
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return cat({in[0], constant}, 0); },
                           {leaf({2, 4})}))
      << "one input constant";
}

TEST(IndexingGradcheck, SoftmaxLogSoftmax) {
  for (int64_t dim : {0, 1, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    check_layouts([dim](const Tensor& x) { return softmax(x, dim); });
    check_layouts([dim](const Tensor& x) { return log_softmax(x, dim); });
    check_layouts([dim](const Tensor& x) { return x.softmax(dim); });
    check_layouts([dim](const Tensor& x) { return x.log_softmax(dim); });
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return softmax(in[0], 1); }, {leaf({0, 3})}))
      << "empty";
}

TEST(ViewsGradcheck, ReshapingViews) {
  check_layouts([](const Tensor& x) { return view(x.contiguous(), {4, 3}); });
  check_layouts([](const Tensor& x) { return x.contiguous().view({2, -1}); });
  check_layouts([](const Tensor& x) { return reshape(x, {2, 6}); });
  check_layouts([](const Tensor& x) { return x.reshape({-1}); });
  check_layouts([](const Tensor& x) { return flatten(x); });
  check_layouts([](const Tensor& x) { return x.flatten(); });
  check_layouts([](const Tensor& x) { return squeeze(unsqueeze(x, 1)); });
  check_layouts([](const Tensor& x) { return x.unsqueeze(0).squeeze(0); });
  check_layouts([](const Tensor& x) { return x.unsqueeze(-1) * 2; });
  check_layouts([](const Tensor& x) { return x.unsqueeze(1).squeeze(); });
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].reshape({3, 0}); },
                           {leaf({0, 3})}))
      << "empty";
}

TEST(ViewsGradcheck, Permutations) {
  check_layouts([](const Tensor& x) { return permute(x, {1, 0}); });
  check_layouts([](const Tensor& x) { return x.transpose(0, 1) * 3; });
  check_layouts([](const Tensor& x) { return transpose(x, -1, 0); });
  check_layouts([](const Tensor& x) { return x.t(); });
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].permute({2, 0, 1}) * 2; },
                           {leaf({2, 3, 4}, Layout::Transposed)}));
}

TEST(ViewsGradcheck, SelectingViews) {
  check_layouts([](const Tensor& x) { return narrow(x, 1, 1, 2); });
  check_layouts([](const Tensor& x) { return x.narrow(0, 2, 1); });
  check_layouts([](const Tensor& x) { return select(x, 0, 1); });
  check_layouts([](const Tensor& x) { return x.select(1, -1); });
  check_layouts([](const Tensor& x) { return slice(x, 1, 0, 4, 2); });
  check_layouts([](const Tensor& x) { return x.slice(0, -2, 3); });
  check_layouts([](const Tensor& x) { return x.narrow(1, 0, 0); });
  check_layouts([](const Tensor& x) {
    std::vector<Tensor> parts = split(x, 3, 1);
    return parts[0] * 2 + parts[1].sum();
  });
  check_layouts([](const Tensor& x) {
    std::vector<Tensor> parts = x.chunk(2, 0);
    return parts[1] - parts[0] * 3;
  });
  check_layouts([](const Tensor& x) { return x.split(2)[1]; });
}

TEST(ViewsGradcheck, Expansions) {
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return expand(in[0], {2, 3, 4}); },
                           {leaf({3, 1}, Layout::Contiguous)}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].expand({3, -1}); },
                           {leaf({1, 4}, Layout::Strided)}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return broadcast_to(in[0], {2, 4}); },
                           {leaf({4}, Layout::Strided)}));
  Tensor other = zeros({5, 3, 4});
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return in[0].expand_as(other); },
                           {leaf({3, 4}, Layout::Transposed)}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return expand(in[0], {0, 4}); },
                           {leaf({1, 4})}))
      << "expand to empty";
}

TEST(ViewsGradcheck, SumTo) {
  check_layouts([](const Tensor& x) { return sum_to(x, {4}); });
  check_layouts([](const Tensor& x) { return sum_to(x, {3, 1}); });
  check_layouts([](const Tensor& x) { return sum_to(x, {1, 1}); });
  check_layouts([](const Tensor& x) { return sum_to(x, {}); });
  EXPECT_THAT([] { sum_to(zeros({2, 3}), {4}); },
              ThrowsMessage<ShapeError>(HasSubstr("sum_to: cannot reduce (2, 3) to (4,)")));
}

TEST(ViewsGradcheck, CopiesAndConversions) {
  check_layouts([](const Tensor& x) { return x.contiguous(); });
  check_layouts([](const Tensor& x) { return x.clone() * 2; });
  check_layouts([](const Tensor& x) { return x.to(kFloat64) * 2; });
  check_layouts([](const Tensor& x) { return x.cpu() + 1; });
  check_layouts([](const Tensor& x) { return x.to(Device::cpu()); });
}

TEST(ViewsGradcheck, EmptyInputs) {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> cases = {
      {"view", [](const Tensor& x) { return x.view({4, 0}); }},
      {"permute", [](const Tensor& x) { return x.permute({1, 0}); }},
      {"transpose", [](const Tensor& x) { return x.transpose(0, 1); }},
      {"t", [](const Tensor& x) { return x.t(); }},
      {"narrow", [](const Tensor& x) { return x.narrow(1, 1, 2); }},
      {"slice", [](const Tensor& x) { return x.slice(1, 0, 4, 2); }},
      {"select", [](const Tensor& x) { return x.select(1, 2); }},
      {"expand", [](const Tensor& x) { return x.unsqueeze(0).expand({2, 0, 4}); }},
      {"split", [](const Tensor& x) { return x.split(3, 1)[1]; }},
      {"chunk", [](const Tensor& x) { return x.chunk(2, 1)[0]; }},
      {"contiguous", [](const Tensor& x) { return x.t().contiguous(); }},
      {"clone", [](const Tensor& x) { return x.clone(); }},
      {"index_select", [](const Tensor& x) { return index_select(x, 1, tensor({3, 0})); }},
      {"cat", [](const Tensor& x) { return cat({x, x}, 1); }},
      {"stack", [](const Tensor& x) { return stack({x, x}); }},
  };
  for (const auto& [name, fn] : cases) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return fn(in[0]); }, {leaf({0, 4})}));
  }
}

TEST(ViewsGradcheck, ConversionGivesTheGradientTheInputDtype) {
  Tensor x = ones({3}, {.dtype = kFloat64}).requires_grad_();
  Tensor y = x.to(kFloat32);
  EXPECT_TRUE(y.requires_grad());
  (y * 2).sum().backward();
  EXPECT_EQ(x.grad().dtype(), kFloat64);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 2, 2}));
  EXPECT_FALSE(x.to(kInt64).requires_grad());
}

}  // namespace
}  // namespace ignis
