// The layers and losses of nn against PyTorch: forward values and gradients read from
// tests/reference/nn_fixtures.txt (made by make_nn_fixtures.py), including a LeNet-style CNN
// built from modules. Not a finite-difference check: see gradcheck_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/reductions.h"
#include "nn/container.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "support/compare.h"
#include "support/fixture.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using test::FixtureCase;
using test::NamedTensor;
namespace F = nn::functional;
using nn::EmbeddingBagMode;
using nn::Reduction;

class Inputs {
 public:
  explicit Inputs(std::vector<NamedTensor> leaves) : leaves_(std::move(leaves)) {}
  Tensor operator[](const std::string& name) const {
    Tensor t = test::find_tensor(leaves_, name);
    if (!t.defined()) throw ValueError("nn reference case has no input named '" + name + "'");
    return t;
  }
  const std::vector<NamedTensor>& all() const { return leaves_; }

 private:
  std::vector<NamedTensor> leaves_;
};

using Op = std::function<std::vector<Tensor>(const Inputs&)>;

std::vector<Tensor> batch_norm_train(const Inputs& in) {
  const Tensor x = in["x"];
  Tensor running_mean = zeros({x.size(1)}, {.dtype = x.dtype()});
  Tensor running_var = ones({x.size(1)}, {.dtype = x.dtype()});
  Tensor out = F::batch_norm(x, running_mean, running_var, in["w"], in["b"], true, 0.3);
  return {out, running_mean, running_var};
}

// The network of the "lenet" case, as modules; parameters loaded from the case's inputs.
struct LeNet : nn::Module {
  LeNet() : Module("LeNet") {
    conv1 = register_module("conv1", nn::Conv2d(1, 4, 3));
    conv2 = register_module("conv2", nn::Conv2d(4, 8, 3, {.padding = 1}));
    fc1 = register_module("fc1", nn::Linear(32, 16));
    fc2 = register_module("fc2", nn::Linear(16, 10));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = F::max_pool2d(F::relu((*conv1)(x)), 2);
    h = F::max_pool2d(F::relu((*conv2)(h)), 2);
    h = F::relu((*fc1)(h.flatten(1)));
    return (*fc2)(h);
  }
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

// The LeNet module with the case's parameters ("conv1_weight" -> "conv1.weight"); its
// parameters replace the inputs' leaves, so the test reads their gradients.
std::vector<Tensor> run_lenet(const Inputs& in, std::vector<NamedTensor>& params_out) {
  auto net = std::make_shared<LeNet>();
  nn::StateDict state;
  for (const NamedTensor& t : in.all()) {
    if (t.name == "x" || t.name == "y") continue;
    std::string key = t.name;
    key[key.find('_')] = '.';
    state.emplace_back(key, t.value.detach());
  }
  net->to(in["x"].dtype());
  net->load_state_dict(state);
  for (const auto& [name, p] : net->named_parameters()) {
    std::string key = name;
    key[key.find('.')] = '_';
    params_out.push_back({key, p});
  }
  Tensor logits = (*net)(in["x"]);
  return {logits, F::cross_entropy(logits, in["y"])};
}

Tensor detached(const Tensor& t) { return t.detach(); }

// Case name -> the ignis call; each mirrors the PyTorch call of make_nn_fixtures.py.
const std::map<std::string, Op>& op_table() {
  using V = std::vector<Tensor>;
  static const std::map<std::string, Op> table = {
      {"linear", [](const Inputs& in) { return V{F::linear(in["x"], in["w"], in["b"])}; }},
      {"conv2d", [](const Inputs& in) { return V{F::conv2d(in["x"], in["w"], in["b"])}; }},
      {"conv2d_stride2_pad1",
       [](const Inputs& in) { return V{F::conv2d(in["x"], in["w"], in["b"], 2, 1)}; }},
      {"conv2d_k3x2_dilation2_pad1x2",
       [](const Inputs& in) {
         return V{F::conv2d(in["x"], in["w"], in["b"], 1, {1, 2}, 2)};
       }},
      {"conv2d_groups2_no_bias",
       [](const Inputs& in) { return V{F::conv2d(in["x"], in["w"], {}, {1, 2}, 0, 1, 2)}; }},
      {"conv2d_depthwise",
       [](const Inputs& in) { return V{F::conv2d(in["x"], in["w"], in["b"], 1, 0, 1, 3)}; }},

      {"max_pool2d_k2", [](const Inputs& in) { return V{F::max_pool2d(in["x"], 2)}; }},
      {"max_pool2d_k3_s2_p1",
       [](const Inputs& in) { return V{F::max_pool2d(in["x"], 3, 2, 1)}; }},
      {"max_pool2d_k2_s1_dilation2",
       [](const Inputs& in) { return V{F::max_pool2d(in["x"], 2, 1, 0, 2)}; }},
      {"max_pool2d_3d_input",
       [](const Inputs& in) { return V{F::max_pool2d(in["x"], {2, 3}, nn::Size2{1, 1})}; }},
      {"avg_pool2d_k2", [](const Inputs& in) { return V{F::avg_pool2d(in["x"], 2)}; }},
      {"avg_pool2d_k3_s2_p1",
       [](const Inputs& in) { return V{F::avg_pool2d(in["x"], 3, 2, 1)}; }},
      {"avg_pool2d_k3_s2_p1_exclude_pad",
       [](const Inputs& in) { return V{F::avg_pool2d(in["x"], 3, 2, 1, false)}; }},
      {"adaptive_avg_pool2d_3x2",
       [](const Inputs& in) { return V{F::adaptive_avg_pool2d(in["x"], {3, 2})}; }},
      {"adaptive_avg_pool2d_1",
       [](const Inputs& in) { return V{F::adaptive_avg_pool2d(in["x"], 1)}; }},

      {"embedding_padding_idx",
       [](const Inputs& in) { return V{F::embedding(in["i"], in["w"], 1)}; }},
      {"embedding_bag_sum",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Sum)};
       }},
      {"embedding_bag_mean",
       [](const Inputs& in) { return V{F::embedding_bag(in["i"], in["w"], in["o"])}; }},
      {"embedding_bag_max",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Max)};
       }},
      {"embedding_bag_sum_per_sample_weights",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Sum, in["p"])};
       }},
      {"embedding_bag_mean_padding_idx",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Mean, {}, false,
                                   4)};
       }},
      {"embedding_bag_max_padding_idx",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Max, {}, false,
                                   1)};
       }},
      {"embedding_bag_sum_include_last_offset",
       [](const Inputs& in) {
         return V{F::embedding_bag(in["i"], in["w"], in["o"], EmbeddingBagMode::Sum, {}, true)};
       }},
      {"embedding_bag_mean_2d",
       [](const Inputs& in) { return V{F::embedding_bag(in["i"], in["w"])}; }},

      {"layer_norm_last",
       [](const Inputs& in) { return V{F::layer_norm(in["x"], {5}, in["w"], in["b"])}; }},
      {"layer_norm_last2_eps",
       [](const Inputs& in) {
         return V{F::layer_norm(in["x"], {3, 4}, in["w"], in["b"], 1e-3)};
       }},
      {"layer_norm_no_affine", [](const Inputs& in) { return V{F::layer_norm(in["x"], {6})}; }},
      {"batch_norm_train_2d", batch_norm_train},
      {"batch_norm_train_1d", batch_norm_train},
      {"batch_norm_train_1d_3d_input", batch_norm_train},
      {"batch_norm_eval",
       [](const Inputs& in) {
         return V{F::batch_norm(in["x"], detached(in["m"]), detached(in["v"]), in["w"], in["b"])};
       }},

      {"cross_entropy", [](const Inputs& in) { return V{F::cross_entropy(in["x"], in["t"])}; }},
      {"cross_entropy_sum",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.reduction = Reduction::Sum})};
       }},
      {"cross_entropy_none",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.reduction = Reduction::None})};
       }},
      {"cross_entropy_weight",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.weight = detached(in["w"])})};
       }},
      {"cross_entropy_ignore_index",
       [](const Inputs& in) { return V{F::cross_entropy(in["x"], in["t"])}; }},
      {"cross_entropy_ignore_index_2",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.ignore_index = 2})};
       }},
      {"cross_entropy_label_smoothing",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.label_smoothing = 0.1})};
       }},
      {"cross_entropy_weight_ignore_smoothing",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"],
                                   {.weight = detached(in["w"]), .label_smoothing = 0.2})};
       }},
      {"cross_entropy_weight_ignore_smoothing_none",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"],
                                   {.weight = detached(in["w"]), .reduction = Reduction::None,
                                    .label_smoothing = 0.2})};
       }},
      {"cross_entropy_weight_smoothing_sum",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"],
                                   {.weight = detached(in["w"]), .reduction = Reduction::Sum,
                                    .label_smoothing = 0.3})};
       }},
      {"cross_entropy_3d", [](const Inputs& in) { return V{F::cross_entropy(in["x"], in["t"])}; }},
      {"cross_entropy_4d_none",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], in["t"], {.reduction = Reduction::None})};
       }},
      {"cross_entropy_unbatched",
       [](const Inputs& in) { return V{F::cross_entropy(in["x"], in["t"])}; }},
      {"cross_entropy_large_logits",
       [](const Inputs& in) { return V{F::cross_entropy(in["x"], in["t"])}; }},
      {"cross_entropy_probs",
       [](const Inputs& in) { return V{F::cross_entropy(in["x"], detached(in["p"]))}; }},
      {"cross_entropy_probs_weight_smoothing",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], detached(in["p"]),
                                   {.weight = detached(in["w"]), .label_smoothing = 0.1})};
       }},
      {"cross_entropy_probs_3d_none",
       [](const Inputs& in) {
         return V{F::cross_entropy(in["x"], detached(in["p"]), {.reduction = Reduction::None})};
       }},

      {"nll_loss", [](const Inputs& in) { return V{F::nll_loss(in["x"], in["t"])}; }},
      {"nll_loss_weight_ignore",
       [](const Inputs& in) {
         return V{F::nll_loss(in["x"], in["t"], {.weight = detached(in["w"])})};
       }},
      {"nll_loss_3d_none",
       [](const Inputs& in) {
         return V{F::nll_loss(in["x"], in["t"], {.reduction = Reduction::None})};
       }},
      {"nll_loss_sum",
       [](const Inputs& in) {
         return V{F::nll_loss(in["x"], in["t"], {.reduction = Reduction::Sum})};
       }},

      {"mse_loss", [](const Inputs& in) { return V{F::mse_loss(in["x"], in["y"])}; }},
      {"mse_loss_sum",
       [](const Inputs& in) { return V{F::mse_loss(in["x"], in["y"], Reduction::Sum)}; }},
      {"mse_loss_none",
       [](const Inputs& in) { return V{F::mse_loss(in["x"], in["y"], Reduction::None)}; }},
      {"l1_loss", [](const Inputs& in) { return V{F::l1_loss(in["x"], in["y"])}; }},
      {"l1_loss_none",
       [](const Inputs& in) { return V{F::l1_loss(in["x"], in["y"], Reduction::None)}; }},
      {"smooth_l1_loss", [](const Inputs& in) { return V{F::smooth_l1_loss(in["x"], in["y"])}; }},
      {"smooth_l1_loss_beta05_sum",
       [](const Inputs& in) {
         return V{F::smooth_l1_loss(in["x"], in["y"], Reduction::Sum, 0.5)};
       }},
      {"smooth_l1_loss_beta0",
       [](const Inputs& in) {
         return V{F::smooth_l1_loss(in["x"], in["y"], Reduction::Mean, 0.0)};
       }},
      {"huber_loss", [](const Inputs& in) { return V{F::huber_loss(in["x"], in["y"])}; }},
      {"huber_loss_delta07_none",
       [](const Inputs& in) {
         return V{F::huber_loss(in["x"], in["y"], Reduction::None, 0.7)};
       }},

      {"binary_cross_entropy",
       [](const Inputs& in) { return V{F::binary_cross_entropy(in["x"], in["y"])}; }},
      {"binary_cross_entropy_weight_sum",
       [](const Inputs& in) {
         return V{F::binary_cross_entropy(in["x"], in["y"], detached(in["w"]), Reduction::Sum)};
       }},
      {"binary_cross_entropy_none",
       [](const Inputs& in) {
         return V{F::binary_cross_entropy(in["x"], in["y"], {}, Reduction::None)};
       }},
      {"bce_with_logits",
       [](const Inputs& in) { return V{F::binary_cross_entropy_with_logits(in["x"], in["y"])}; }},
      {"bce_with_logits_pos_weight_weight",
       [](const Inputs& in) {
         return V{F::binary_cross_entropy_with_logits(
             in["x"], in["y"], {.weight = detached(in["w"]), .pos_weight = detached(in["pw"])})};
       }},
      {"bce_with_logits_large_none",
       [](const Inputs& in) {
         return V{F::binary_cross_entropy_with_logits(in["x"], in["y"],
                                                      {.reduction = Reduction::None})};
       }},
  };
  return table;
}

// NOTE: the references are float64 results rounded once; ignis's float32 sums (convolutions,
// normalizations) round at every step, so float32 gets rtol 1e-4 and an absolute floor of
// 1e-5 times the largest |want| of the tensor.
test::Tolerance tolerance_for(const Tensor& want) {
  double scale = 1.0;
  for (double v : want.to_vector<double>()) scale = std::max(scale, std::abs(v));
  if (want.dtype() == kFloat32) return {1e-4, 1e-5 * scale};
  if (want.dtype() == kFloat64) return {1e-9, 1e-11 * scale};
  return {};
}

::testing::AssertionResult matches(const std::string& what, const Tensor& got,
                                   const Tensor& want) {
  return test::tensors_close(what, got, want, tolerance_for(want));
}

const std::vector<FixtureCase>& fixtures() {
  static const std::vector<FixtureCase> cases =
      test::load_fixtures(std::string(IGNIS_TEST_DATA_DIR) + "/reference/nn_fixtures.txt");
  return cases;
}

std::vector<size_t> case_indices() {
  std::vector<size_t> indices(fixtures().size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return indices;
}

TEST(NNReferenceFixtures, EveryTableEntryHasAFixture) {
  ASSERT_FALSE(fixtures().empty());
  for (const auto& [name, op] : op_table()) {
    EXPECT_TRUE(std::any_of(fixtures().begin(), fixtures().end(),
                            [&](const FixtureCase& c) { return c.name == name; }))
        << "the table maps '" << name << "' but no fixture has it";
  }
}

class NNReferenceTest : public ::testing::TestWithParam<size_t> {};

TEST_P(NNReferenceTest, ForwardAndBackwardMatchPyTorch) {
  const FixtureCase& c = fixtures()[GetParam()];
  std::vector<NamedTensor> leaves;
  for (const NamedTensor& input : c.inputs) {
    Tensor leaf = input.value.detach();
    if (leaf.is_floating_point()) leaf.requires_grad_();
    leaves.push_back({input.name, leaf});
  }
  Inputs in(leaves);
  std::vector<NamedTensor> params;  // the LeNet module's own parameters
  std::vector<Tensor> outs;
  if (c.name == "lenet") {
    outs = run_lenet(in, params);
  } else {
    const auto op = op_table().find(c.name);
    ASSERT_TRUE(op != op_table().end()) << "case '" << c.name << "' has no ignis call";
    outs = op->second(in);
  }
  ASSERT_EQ(outs.size(), c.outputs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_TRUE(matches("forward " + c.outputs[i].name, outs[i], c.outputs[i].value));
  }
  Tensor loss;
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor w = test::find_tensor(c.weights, c.outputs[i].name);
    if (!w.defined()) continue;
    const Tensor term = (outs[i] * w).sum();
    loss = loss.defined() ? loss + term : term;
  }
  ASSERT_TRUE(loss.defined());
  loss.backward();
  const Inputs module_params(params);
  for (const NamedTensor& want : c.grads) {
    const bool is_param = !params.empty() && want.name != "x";
    Tensor got = is_param ? module_params[want.name].grad() : in[want.name].grad();
    if (!got.defined()) got = zeros(want.value.sizes(), {.dtype = want.value.dtype()});
    EXPECT_TRUE(matches("grad of " + want.name, got, want.value));
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorch, NNReferenceTest, ::testing::ValuesIn(case_indices()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return fixtures()[info.param].id();
                         });

}  // namespace
}  // namespace ignis
