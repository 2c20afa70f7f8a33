// Every differentiable op against PyTorch: forward values and gradients read from the
// fixtures of tests/reference/ (made by make_fixtures.py). Not a finite-difference check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ignis.h"
#include "support/compare.h"
#include "support/fixture.h"

namespace ignis {
namespace {

using test::FixtureCase;
using test::NamedTensor;

// The inputs of one case by name: in["x"]. Floating inputs of a differentiable case are
// leaves that require grad.
class Inputs {
 public:
  explicit Inputs(std::vector<NamedTensor> leaves) : leaves_(std::move(leaves)) {}
  Tensor operator[](const std::string& name) const {
    Tensor t = test::find_tensor(leaves_, name);
    if (!t.defined()) throw ValueError("reference case has no input named '" + name + "'");
    return t;
  }

 private:
  std::vector<NamedTensor> leaves_;
};

// What an op returns: one tensor, a (values, indices) pair, or a list (split, chunk).
struct Outputs {
  std::vector<Tensor> tensors;
  Outputs(Tensor t) : tensors{std::move(t)} {}
  Outputs(std::pair<Tensor, Tensor> p) : tensors{std::move(p.first), std::move(p.second)} {}
  Outputs(std::vector<Tensor> ts) : tensors(std::move(ts)) {}
};

using Op = std::function<Outputs(const Inputs&)>;

// Case name -> the ignis call. Each line mirrors the PyTorch call of the same case in
// make_fixtures.py; some use the Tensor method form on purpose, so both forms are covered.
const std::map<std::string, Op>& op_table() {
  static const std::map<std::string, Op> table = {
      // Elementwise binary.
      {"add", [](const Inputs& in) { return in["x"] + in["y"]; }},
      {"add_broadcast_row", [](const Inputs& in) { return in["x"] + in["y"]; }},
      {"add_broadcast_both", [](const Inputs& in) { return in["x"] + in["y"]; }},
      {"add_broadcast_3d", [](const Inputs& in) { return in["x"] + in["y"]; }},
      {"add_transposed", [](const Inputs& in) { return in["x"].t() + in["y"]; }},
      {"add_alpha", [](const Inputs& in) { return add(in["x"], in["y"], 2.5); }},
      {"add_scalar", [](const Inputs& in) { return in["x"] + 2.5; }},
      {"add_mixed_dtype", [](const Inputs& in) { return in["x"] + in["y"]; }},
      {"sub", [](const Inputs& in) { return in["x"] - in["y"]; }},
      {"sub_broadcast", [](const Inputs& in) { return in["x"] - in["y"]; }},
      {"sub_alpha", [](const Inputs& in) { return sub(in["x"], in["y"], 0.5); }},
      {"rsub_scalar", [](const Inputs& in) { return 2.5 - in["x"]; }},
      {"mul", [](const Inputs& in) { return in["x"] * in["y"]; }},
      {"mul_broadcast", [](const Inputs& in) { return mul(in["x"], in["y"]); }},
      {"mul_same_input", [](const Inputs& in) { return in["x"] * in["x"]; }},
      {"mul_scalar", [](const Inputs& in) { return 3.0 * in["x"]; }},
      {"div", [](const Inputs& in) { return in["x"] / in["y"]; }},
      {"div_broadcast", [](const Inputs& in) { return div(in["x"], in["y"]); }},
      {"div_scalar", [](const Inputs& in) { return in["x"] / 4.0; }},
      {"rdiv_scalar", [](const Inputs& in) { return 2.0 / in["x"]; }},
      {"pow_tensor", [](const Inputs& in) { return pow(in["x"], in["y"]); }},
      {"pow_tensor_broadcast", [](const Inputs& in) { return pow(in["x"], in["y"]); }},
      {"pow_scalar_2", [](const Inputs& in) { return pow(in["x"], 2); }},
      {"pow_scalar_3", [](const Inputs& in) { return in["x"].pow(3); }},
      {"pow_scalar_half", [](const Inputs& in) { return pow(in["x"], 0.5); }},
      {"pow_scalar_neg", [](const Inputs& in) { return pow(in["x"], -1.5); }},
      {"maximum", [](const Inputs& in) { return maximum(in["x"], in["y"]); }},
      {"maximum_broadcast", [](const Inputs& in) { return maximum(in["x"], in["y"]); }},
      {"maximum_ties", [](const Inputs& in) { return maximum(in["x"], in["y"]); }},
      {"minimum", [](const Inputs& in) { return minimum(in["x"], in["y"]); }},
      {"minimum_ties", [](const Inputs& in) { return minimum(in["x"], in["y"]); }},

      // Elementwise unary.
      {"neg", [](const Inputs& in) { return -in["x"]; }},
      {"abs", [](const Inputs& in) { return abs(in["x"]); }},
      {"exp", [](const Inputs& in) { return in["x"].exp(); }},
      {"exp_transposed", [](const Inputs& in) { return exp(in["x"].transpose(0, 2)); }},
      {"log", [](const Inputs& in) { return log(in["x"]); }},
      {"log1p", [](const Inputs& in) { return log1p(in["x"]); }},
      {"sqrt", [](const Inputs& in) { return sqrt(in["x"]); }},
      {"rsqrt", [](const Inputs& in) { return rsqrt(in["x"]); }},
      {"square", [](const Inputs& in) { return square(in["x"]); }},
      {"clamp_both", [](const Inputs& in) { return clamp(in["x"], -0.5, 0.7); }},
      {"clamp_min", [](const Inputs& in) { return clamp(in["x"], -0.3, std::nullopt); }},
      {"clamp_max", [](const Inputs& in) { return clamp(in["x"], std::nullopt, 0.4); }},
      {"relu", [](const Inputs& in) { return relu(in["x"]); }},
      {"leaky_relu", [](const Inputs& in) { return leaky_relu(in["x"]); }},
      {"leaky_relu_slope", [](const Inputs& in) { return leaky_relu(in["x"], 0.2); }},
      {"gelu", [](const Inputs& in) { return gelu(in["x"]); }},
      {"gelu_tanh", [](const Inputs& in) { return gelu(in["x"], "tanh"); }},
      {"silu", [](const Inputs& in) { return silu(in["x"]); }},
      {"tanh", [](const Inputs& in) { return tanh(in["x"]); }},
      {"sigmoid", [](const Inputs& in) { return in["x"].sigmoid(); }},
      {"chain_exp_log_mul",
       [](const Inputs& in) { return log(in["x"]) * exp(in["y"]) + in["x"]; }},

      // Selection by mask.
      {"where", [](const Inputs& in) { return where(in["c"], in["x"], in["y"]); }},
      {"where_broadcast", [](const Inputs& in) { return where(in["c"], in["x"], in["y"]); }},
      {"masked_fill", [](const Inputs& in) { return masked_fill(in["x"], in["m"], -1.5); }},
      {"masked_fill_broadcast",
       [](const Inputs& in) { return masked_fill(in["x"], in["m"], 2.0); }},

      // Comparisons and arg-reductions (forward only).
      {"gt", [](const Inputs& in) { return in["x"] > in["y"]; }},
      {"le_scalar", [](const Inputs& in) { return in["x"] <= 0.25; }},
      {"eq", [](const Inputs& in) { return eq(in["x"], in["y"]); }},
      {"argmax_dim1", [](const Inputs& in) { return argmax(in["x"], 1); }},
      {"argmin_all", [](const Inputs& in) { return in["x"].argmin(); }},
      {"ne_lt_ge",
       [](const Inputs& in) {
         return std::vector<Tensor>{in["x"] != in["y"], lt(in["x"], in["y"]), in["x"] >= in["y"]};
       }},
      {"logical",
       [](const Inputs& in) {
         return std::vector<Tensor>{in["p"] && in["q"], in["p"] || in["q"],
                                    logical_xor(in["p"], in["q"]), !in["p"]};
       }},
      {"isnan", [](const Inputs& in) { return isnan(in["x"]); }},
      {"one_hot", [](const Inputs& in) { return one_hot(in["i"], 5); }},

      // Reductions.
      {"sum_all", [](const Inputs& in) { return sum(in["x"]); }},
      {"sum_dim1", [](const Inputs& in) { return in["x"].sum({1}); }},
      {"sum_dims02_keepdim", [](const Inputs& in) { return sum(in["x"], {0, 2}, true); }},
      {"sum_dim_neg1", [](const Inputs& in) { return sum(in["x"], {-1}); }},
      {"sum_transposed", [](const Inputs& in) { return sum(in["x"].t(), {1}); }},
      {"sum_dtype_float64", [](const Inputs& in) { return sum(in["x"], {}, false, kFloat64); }},
      {"sum_empty", [](const Inputs& in) { return sum(in["x"], {0}); }},
      {"mean_all", [](const Inputs& in) { return in["x"].mean(); }},
      {"mean_dim0", [](const Inputs& in) { return mean(in["x"], {0}); }},
      {"mean_dims12_keepdim", [](const Inputs& in) { return in["x"].mean({1, 2}, true); }},
      {"prod_all", [](const Inputs& in) { return prod(in["x"]); }},
      {"prod_dim1", [](const Inputs& in) { return prod(in["x"], {1}); }},
      {"prod_dim0_keepdim", [](const Inputs& in) { return prod(in["x"], {0}, true); }},
      {"var_all", [](const Inputs& in) { return var(in["x"]); }},
      {"var_all_correction0", [](const Inputs& in) { return var(in["x"], {}, 0); }},
      {"var_dim1", [](const Inputs& in) { return var(in["x"], {1}); }},
      {"var_dim1_correction0_keepdim",
       [](const Inputs& in) { return var(in["x"], {1}, 0, true); }},
      {"std_all", [](const Inputs& in) { return ignis::std(in["x"]); }},
      {"std_dim0_correction0", [](const Inputs& in) { return ignis::std(in["x"], {0}, 0); }},
      {"std_dims01_keepdim",
       [](const Inputs& in) { return ignis::std(in["x"], {0, 1}, 1, true); }},
      {"amax_all", [](const Inputs& in) { return amax(in["x"]); }},
      {"amax_dim1", [](const Inputs& in) { return amax(in["x"], {1}); }},
      {"amax_ties", [](const Inputs& in) { return amax(in["x"], {1}); }},
      {"amin_dims01_keepdim", [](const Inputs& in) { return amin(in["x"], {0, 1}, true); }},
      {"amin_ties", [](const Inputs& in) { return amin(in["x"]); }},
      {"max_all", [](const Inputs& in) { return max(in["x"]); }},
      {"min_all", [](const Inputs& in) { return in["x"].min(); }},
      {"max_dim1", [](const Inputs& in) { return max(in["x"], 1); }},
      {"max_dim0_keepdim", [](const Inputs& in) { return max(in["x"], 0, true); }},
      {"min_dim_neg1", [](const Inputs& in) { return min(in["x"], -1); }},
      {"logsumexp_dim1", [](const Inputs& in) { return logsumexp(in["x"], {1}); }},
      {"logsumexp_dims01_keepdim",
       [](const Inputs& in) { return logsumexp(in["x"], {0, 1}, true); }},
      {"logsumexp_large", [](const Inputs& in) { return logsumexp(in["x"], {0}); }},
      {"norm_p1_all", [](const Inputs& in) { return norm(in["x"], 1); }},
      {"norm_p2_all", [](const Inputs& in) { return norm(in["x"]); }},
      {"norm_p3_all", [](const Inputs& in) { return norm(in["x"], 3); }},
      {"norm_p2_dim1", [](const Inputs& in) { return norm(in["x"], 2, {1}); }},
      {"norm_p1_dim0_keepdim", [](const Inputs& in) { return norm(in["x"], 1, {0}, true); }},
      {"norm_p3_dim_neg1", [](const Inputs& in) { return norm(in["x"], 3, {-1}); }},

      // Matrix products.
      {"matmul_1d_1d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_1d_2d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_2d_1d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_2d_2d", [](const Inputs& in) { return in["a"].matmul(in["b"]); }},
      {"matmul_2d_2d_transposed",
       [](const Inputs& in) { return matmul(in["a"].t(), in["b"].t()); }},
      {"matmul_3d_3d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_3d_2d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_2d_3d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_1d_3d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_3d_1d", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_batch_broadcast", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"matmul_empty_inner", [](const Inputs& in) { return matmul(in["a"], in["b"]); }},
      {"mm", [](const Inputs& in) { return mm(in["a"], in["b"]); }},
      {"bmm", [](const Inputs& in) { return bmm(in["a"], in["b"]); }},
      {"addmm", [](const Inputs& in) { return addmm(in["c"], in["a"], in["b"]); }},
      {"addmm_broadcast_beta_alpha",
       [](const Inputs& in) { return addmm(in["c"], in["a"], in["b"], 0.5, 2.0); }},
      {"linear", [](const Inputs& in) { return linear(in["x"], in["w"], in["b"]); }},
      {"linear_no_bias", [](const Inputs& in) { return linear(in["x"], in["w"]); }},
      {"linear_3d", [](const Inputs& in) { return linear(in["x"], in["w"], in["b"]); }},
      {"linear_relu",
       [](const Inputs& in) { return linear(in["x"], in["w"], in["b"], Activation::Relu); }},
      {"linear_tanh_3d",
       [](const Inputs& in) { return linear(in["x"], in["w"], in["b"], Activation::Tanh); }},
      {"linear_sigmoid_no_bias",
       [](const Inputs& in) { return linear(in["x"], in["w"], {}, Activation::Sigmoid); }},

      // Softmax.
      {"softmax_dim1", [](const Inputs& in) { return softmax(in["x"], 1); }},
      {"softmax_dim0", [](const Inputs& in) { return in["x"].softmax(0); }},
      {"softmax_3d_dim1", [](const Inputs& in) { return softmax(in["x"], 1); }},
      {"softmax_large", [](const Inputs& in) { return softmax(in["x"], -1); }},
      {"log_softmax_dim1", [](const Inputs& in) { return log_softmax(in["x"], 1); }},
      {"log_softmax_dim0", [](const Inputs& in) { return in["x"].log_softmax(0); }},
      {"log_softmax_3d_dim_neg1", [](const Inputs& in) { return log_softmax(in["x"], -1); }},
      {"softmax_transposed", [](const Inputs& in) { return softmax(in["x"].t(), 1); }},

      // Indexing.
      {"index_select_dim0", [](const Inputs& in) { return index_select(in["x"], 0, in["i"]); }},
      {"index_select_dim2", [](const Inputs& in) { return index_select(in["x"], 2, in["i"]); }},
      {"gather_dim1", [](const Inputs& in) { return gather(in["x"], 1, in["i"]); }},
      {"gather_dim0", [](const Inputs& in) { return gather(in["x"], 0, in["i"]); }},
      {"scatter_add_dim0",
       [](const Inputs& in) { return scatter_add(in["x"], 0, in["i"], in["s"]); }},
      {"scatter_add_dim1",
       [](const Inputs& in) { return scatter_add(in["x"], 1, in["i"], in["s"]); }},
      {"embedding", [](const Inputs& in) { return embedding(in["w"], in["i"]); }},
      {"embedding_1d", [](const Inputs& in) { return embedding(in["w"], in["i"]); }},

      // Joining and splitting.
      {"cat_dim0", [](const Inputs& in) { return cat({in["x"], in["y"]}, 0); }},
      {"cat_dim1_three", [](const Inputs& in) { return cat({in["x"], in["y"], in["z"]}, 1); }},
      {"cat_with_empty", [](const Inputs& in) { return cat({in["x"], in["y"]}, 0); }},
      {"cat_same_input", [](const Inputs& in) { return cat({in["x"], in["x"]}, -1); }},
      {"stack_dim0", [](const Inputs& in) { return stack({in["x"], in["y"]}, 0); }},
      {"stack_dim2", [](const Inputs& in) { return stack({in["x"], in["y"], in["z"]}, 2); }},
      {"split_dim0", [](const Inputs& in) { return split(in["x"], 2, 0); }},
      {"split_dim1", [](const Inputs& in) { return in["x"].split(3, 1); }},
      {"chunk_dim1", [](const Inputs& in) { return chunk(in["x"], 3, 1); }},
      {"chunk_dim0", [](const Inputs& in) { return in["x"].chunk(2, 0); }},

      // Views and copies.
      {"view", [](const Inputs& in) { return in["x"].view({2, 6}); }},
      {"view_infer", [](const Inputs& in) { return view(in["x"], {-1, 4}); }},
      {"reshape", [](const Inputs& in) { return in["x"].reshape({4, 6}); }},
      {"reshape_transposed", [](const Inputs& in) { return in["x"].t().reshape({12}); }},
      {"flatten", [](const Inputs& in) { return flatten(in["x"]); }},
      {"flatten_1_2", [](const Inputs& in) { return in["x"].flatten(1, 2); }},
      {"squeeze", [](const Inputs& in) { return squeeze(in["x"]); }},
      {"squeeze_dim1", [](const Inputs& in) { return in["x"].squeeze(1); }},
      {"unsqueeze_dim0", [](const Inputs& in) { return unsqueeze(in["x"], 0); }},
      {"unsqueeze_dim_neg1", [](const Inputs& in) { return in["x"].unsqueeze(-1); }},
      {"permute", [](const Inputs& in) { return in["x"].permute({2, 0, 1}); }},
      {"transpose", [](const Inputs& in) { return transpose(in["x"], 0, 2); }},
      {"t", [](const Inputs& in) { return in["x"].t(); }},
      {"narrow", [](const Inputs& in) { return narrow(in["x"], 1, 1, 3); }},
      {"slice_step", [](const Inputs& in) { return in["x"].slice(0, 1, 6, 2); }},
      {"select_dim0", [](const Inputs& in) { return in["x"].select(0, 1); }},
      {"select_dim_neg1", [](const Inputs& in) { return select(in["x"], -1, 2); }},
      {"expand", [](const Inputs& in) { return in["x"].expand({3, 4}); }},
      {"expand_new_dims", [](const Inputs& in) { return expand(in["x"], {2, 3, 4}); }},
      {"expand_as", [](const Inputs& in) { return in["x"].expand_as(in["y"]); }},
      {"broadcast_to", [](const Inputs& in) { return broadcast_to(in["x"], {2, 3, 4}); }},
      {"sum_to", [](const Inputs& in) { return sum_to(in["x"], {3, 1}); }},
      {"contiguous_transposed", [](const Inputs& in) { return in["x"].t().contiguous(); }},
      {"clone", [](const Inputs& in) { return in["x"].clone(); }},
      {"detach", [](const Inputs& in) { return in["x"] * in["y"].detach(); }},
      {"to_float64", [](const Inputs& in) { return in["x"].to(kFloat64); }},
      {"to_float32", [](const Inputs& in) { return in["x"].to(kFloat32); }},
      {"view_of_view_chain",
       [](const Inputs& in) {
         return in["x"].transpose(1, 2).narrow(1, 1, 2).unsqueeze(0).select(1, 1);
       }},

      // In place on a non-leaf.
      {"add_inplace", [](const Inputs& in) { return (in["x"] * 1.0).add_(in["y"], 2.0); }},
      {"mul_inplace", [](const Inputs& in) { return (in["x"] + 0.0).mul_(in["y"]); }},
      {"div_scalar_inplace", [](const Inputs& in) { return (in["x"] * 2.0).div_(4.0); }},
      {"sub_inplace", [](const Inputs& in) { return (in["x"] * 1.0).sub_(in["y"], 3.0); }},
      {"add_scalar_inplace", [](const Inputs& in) { return (in["x"] * 2.0).add_(1.5); }},
      {"mul_scalar_inplace", [](const Inputs& in) { return (in["x"] + 1.0).mul_(-2.0); }},
      {"div_inplace", [](const Inputs& in) { return (in["x"] * 1.0).div_(in["y"]); }},
      {"copy_inplace", [](const Inputs& in) { return (in["x"] * 1.0).copy_(in["y"]); }},
      {"fill_inplace", [](const Inputs& in) { return (in["x"] * 1.0).fill_(0.25) * in["x"]; }},
      {"zero_inplace", [](const Inputs& in) { return (in["x"] * 1.0).zero_() + in["x"]; }},
      {"clamp_inplace", [](const Inputs& in) { return (in["x"] * 1.0).clamp_(-0.5, 0.5); }},
  };
  return table;
}

// ---- comparison ----

// NOTE: a value passes when |got - want| <= rtol * |want| + atol: rtol = 1e-5, atol = 1e-6
// for float32 and rtol = 1e-10, atol = 1e-12 for float64. The small absolute floor keeps
// values that cancel to near zero (a softmax gradient, a centred sum) from asking for more
// than the dtype's precision. Integer and bool tensors must match exactly.
test::Tolerance tolerance_for(DType dtype) {
  if (dtype == kFloat32) return {1e-5, 1e-6};
  if (dtype == kFloat64) return {1e-10, 1e-12};
  return {0.0, 0.0};
}

// Compares `got` with `want` (dtype, shape, values) and lists the first mismatches.
::testing::AssertionResult tensors_match(const std::string& what, const Tensor& got,
                                         const Tensor& want) {
  return test::tensors_close(what, got, want, tolerance_for(want.dtype()));
}

// ---- the fixtures ----

const std::string& fixture_path() {
  static const std::string path = std::string(IGNIS_TEST_DATA_DIR) + "/reference/fixtures.txt";
  return path;
}

struct LoadedFixtures {
  std::vector<FixtureCase> cases;
  std::string error;  // why loading failed; empty on success
};

const LoadedFixtures& fixtures() {
  static const LoadedFixtures loaded = [] {
    LoadedFixtures f;
    try {
      f.cases = test::load_fixtures(fixture_path());
    } catch (const Error& e) {
      f.error = e.what();
    }
    return f;
  }();
  return loaded;
}

std::vector<size_t> case_indices() {
  std::vector<size_t> indices(fixtures().cases.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return indices;
}

TEST(ReferenceFixtures, LoadAndCoverTheTable) {
  ASSERT_EQ(fixtures().error, "");
  ASSERT_FALSE(fixtures().cases.empty()) << "no case in " << fixture_path();
  for (const auto& [name, op] : op_table()) {
    const bool present = std::any_of(fixtures().cases.begin(), fixtures().cases.end(),
                                     [&](const FixtureCase& c) { return c.name == name; });
    EXPECT_TRUE(present) << "the table maps '" << name
                         << "' but no fixture has it: add it to make_fixtures.py";
  }
}

TEST(ReferenceFixtures, ParseErrorsNameTheLine) {
  const std::string path = ::testing::TempDir() + "bad_reference_fixture.txt";
  {
    std::ofstream out(path);
    out << "case bad float32\ninput x float32 [2,2]\n1 2 3\nend\n";
  }
  EXPECT_THAT([&] { test::load_fixtures(path); },
              ::testing::ThrowsMessage<ParseError>(
                  ::testing::HasSubstr(":2: shape (2, 2) needs 4 values, got 3")));
}

class ReferenceTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ReferenceTest, ForwardAndBackwardMatchPyTorch) {
  const FixtureCase& c = fixtures().cases[GetParam()];
  const auto op = op_table().find(c.name);
  ASSERT_TRUE(op != op_table().end())
      << "case '" << c.name << "' has no ignis call: add it to op_table()";

  std::vector<NamedTensor> leaves;
  for (const NamedTensor& input : c.inputs) {
    Tensor leaf = input.value.detach();
    if (c.differentiable() && leaf.is_floating_point()) leaf.requires_grad_();
    leaves.push_back({input.name, leaf});
  }
  const Inputs in(leaves);

  const std::vector<Tensor> outs = op->second(in).tensors;
  ASSERT_EQ(outs.size(), c.outputs.size()) << "number of outputs";
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_TRUE(tensors_match("forward " + c.outputs[i].name, outs[i], c.outputs[i].value));
  }
  if (!c.differentiable()) return;

  Tensor loss;
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor w = test::find_tensor(c.weights, c.outputs[i].name);
    if (!w.defined()) continue;
    const Tensor term = (outs[i] * w).sum();
    loss = loss.defined() ? loss + term : term;
  }
  ASSERT_TRUE(loss.defined()) << "a differentiable case without weights";
  loss.backward();
  for (const NamedTensor& want : c.grads) {
    Tensor got = in[want.name].grad();
    if (!got.defined()) got = zeros(want.value.sizes(), {.dtype = want.value.dtype()});
    EXPECT_TRUE(tensors_match("grad of " + want.name, got, want.value));
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorch, ReferenceTest, ::testing::ValuesIn(case_indices()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return fixtures().cases[info.param].id();
                         });

}  // namespace
}  // namespace ignis
