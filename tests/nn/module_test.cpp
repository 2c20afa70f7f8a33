// nn::Module behaviours: hierarchical names, state_dict and its loading (and its errors),
// printing, train/eval, to(), zero_grad, parameter counts, default initialisation, Dropout
// determinism, BatchNorm running statistics, and the layers' and losses' module forms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "nn/container.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<std::string> names(const nn::StateDict& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.push_back(entry.first);
  return out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

struct Encoder : nn::Module {
  Encoder() : Module("Encoder") {
    fc = register_module("fc", nn::Linear(4, 3));
    norm = register_module("norm", nn::BatchNorm1d(3));
  }
  Tensor forward(const Tensor& x) override { return (*norm)((*fc)(x)); }
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::BatchNorm1d> norm;
};

struct Net : nn::Module {
  Net() : Module("Net") {
    encoder = register_module("encoder", std::make_shared<Encoder>());
    head = register_module("head", nn::Sequential(nn::ReLU(), nn::Linear(3, 2, false)));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*encoder)(x)); }
  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<nn::Sequential> head;
};

TEST(Module, HierarchicalNames) {
  Net net;
  EXPECT_THAT(names(net.named_parameters()),
              ElementsAre("encoder.fc.weight", "encoder.fc.bias", "encoder.norm.weight",
                          "encoder.norm.bias", "head.1.weight"));
  EXPECT_THAT(names(net.named_buffers()),
              ElementsAre("encoder.norm.running_mean", "encoder.norm.running_var",
                          "encoder.norm.num_batches_tracked"));
  EXPECT_THAT(names(net.state_dict()),
              ElementsAre("encoder.fc.weight", "encoder.fc.bias", "encoder.norm.weight",
                          "encoder.norm.bias", "encoder.norm.running_mean",
                          "encoder.norm.running_var", "encoder.norm.num_batches_tracked",
                          "head.1.weight"));
  std::vector<std::string> module_names;
  for (const auto& [name, m] : net.named_modules()) module_names.push_back(name + ":" + m->name());
  EXPECT_THAT(module_names, ElementsAre(":Net", "encoder:Encoder", "encoder.fc:Linear",
                                        "encoder.norm:BatchNorm1d", "head:Sequential",
                                        "head.0:ReLU", "head.1:Linear"));
  EXPECT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.parameters(false).size(), 0u);
  // The layer's member and the registered parameter are one tensor.
  EXPECT_TRUE(net.parameters()[0].is_same(net.encoder->fc->weight));
  EXPECT_EQ(net.num_parameters(), 4 * 3 + 3 + 3 + 3 + 3 * 2);
}

TEST(Module, RegistrationErrors) {
  nn::Linear fc(2, 2);
  EXPECT_THAT([&] { fc.register_parameter("weight", zeros({1})); },
              ThrowsMessage<ValueError>(HasSubstr("'weight' is already registered in Linear")));
  EXPECT_THAT([&] { fc.register_buffer("a.b", zeros({1})); },
              ThrowsMessage<ValueError>(HasSubstr("contain no '.'")));
  EXPECT_THAT([&] { nn::ModuleList().forward(zeros({1})); },
              ThrowsMessage<ValueError>(HasSubstr("ModuleList: this module has no forward")));
}

TEST(Module, StateDictRoundTrip) {
  manual_seed(1);
  Net a;
  manual_seed(2);
  Net b;
  ASSERT_GT(max_abs_diff(a.encoder->fc->weight, b.encoder->fc->weight), 0.0);
  a.encoder->norm->running_mean.fill_(0.5);
  b.load_state_dict(a.state_dict());
  const nn::StateDict sa = a.state_dict(), sb = b.state_dict();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(max_abs_diff(sa[i].second, sb[i].second), 0.0) << sa[i].first;
    EXPECT_FALSE(sa[i].second.is_same(sb[i].second));
  }
  // Loaded by copy: changing a afterwards leaves b alone, and b's handles are unchanged.
  a.encoder->fc->weight.detach().fill_(7.0);
  EXPECT_NE(b.encoder->fc->weight.to_vector<float>()[0], 7.0f);
  EXPECT_TRUE(b.parameters()[0].is_same(b.encoder->fc->weight));
  EXPECT_TRUE(b.encoder->fc->weight.requires_grad());
}

TEST(Module, LoadStateDictErrorsNameTheKeys) {
  nn::Sequential model(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  nn::StateDict state = model.state_dict();
  state.erase(state.begin() + 1);                      // drop "0.bias"
  state.emplace_back("3.weight", zeros({2, 2}));       // not in the model
  state[0].second = zeros({3, 5});                     // "0.weight" of the wrong shape
  EXPECT_THAT([&] { model.load_state_dict(state); },
              ThrowsMessage<ValueError>(AllOf(
                  HasSubstr("error(s) in loading state_dict for Sequential"),
                  HasSubstr("missing key(s): \"0.bias\""),
                  HasSubstr("unexpected key(s): \"3.weight\""),
                  HasSubstr("size mismatch for 0.weight: the state_dict has (3, 5), "
                            "the model (3, 4)"))));
  // Nothing was copied.
  EXPECT_NE(max_abs_diff(model.state_dict()[0].second, zeros({3, 4})), 0.0);
  // Non-strict ignores missing and unexpected keys, never a size mismatch.
  state[0].second = zeros({3, 4});
  model.load_state_dict(state, false);
  EXPECT_EQ(max_abs_diff(model.state_dict()[0].second, zeros({3, 4})), 0.0);
  state[0].second = zeros({4, 4});
  EXPECT_THAT([&] { model.load_state_dict(state, false); },
              ThrowsMessage<ValueError>(HasSubstr("size mismatch for 0.weight")));
}

TEST(Module, PrintsLikePyTorch) {
  nn::Sequential model(nn::Conv2d(1, 6, 5), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Conv2d(6, 16, {3, 2}, {.stride = 2, .padding = 1, .groups = 2,
                                                  .bias = false}),
                       nn::BatchNorm2d(16), nn::AvgPool2d(2), nn::AdaptiveAvgPool2d({1, 1}),
                       nn::Flatten(), nn::Dropout(0.25), nn::Linear(16, 8), nn::GELU("tanh"),
                       nn::LayerNorm({8}), nn::LeakyReLU(0.2), nn::Softmax(1));
  std::ostringstream os;
  os << model;
  EXPECT_EQ(os.str(),
            "Sequential(\n"
            "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
            "  (1): ReLU()\n"
            "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
            "  (3): Conv2d(6, 16, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), groups=2, "
            "bias=False)\n"
            "  (4): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, "
            "track_running_stats=True)\n"
            "  (5): AvgPool2d(kernel_size=2, stride=2, padding=0)\n"
            "  (6): AdaptiveAvgPool2d(output_size=(1, 1))\n"
            "  (7): Flatten(start_dim=1, end_dim=-1)\n"
            "  (8): Dropout(p=0.25, inplace=False)\n"
            "  (9): Linear(in_features=16, out_features=8, bias=True)\n"
            "  (10): GELU(approximate='tanh')\n"
            "  (11): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
            "  (12): LeakyReLU(negative_slope=0.2)\n"
            "  (13): Softmax(dim=1)\n"
            ")");
  Net net;
  EXPECT_EQ(net.repr(),
            "Net(\n"
            "  (encoder): Encoder(\n"
            "    (fc): Linear(in_features=4, out_features=3, bias=True)\n"
            "    (norm): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
            "track_running_stats=True)\n"
            "  )\n"
            "  (head): Sequential(\n"
            "    (0): ReLU()\n"
            "    (1): Linear(in_features=3, out_features=2, bias=False)\n"
            "  )\n"
            ")");
  EXPECT_EQ(nn::EmbeddingBag(100, 64, {.mode = nn::EmbeddingBagMode::Sum, .padding_idx = 0})
                .repr(),
            "EmbeddingBag(100, 64, mode='sum', padding_idx=0)");
  EXPECT_EQ(nn::Embedding(10, 3, -1).repr(), "Embedding(10, 3, padding_idx=9)");
  EXPECT_EQ(nn::CrossEntropyLoss().repr(), "CrossEntropyLoss()");
}

TEST(Module, TrainEvalAndDropoutDeterminism) {
  Generator gen(42);
  nn::Sequential model(nn::Linear(8, 8), nn::Dropout(0.5, &gen));
  EXPECT_TRUE(model.is_training());
  model.eval();
  EXPECT_FALSE(model.is_training());
  EXPECT_FALSE(model[1]->is_training());
  const Tensor x = ones({64, 8});
  NoGradGuard no_grad;
  EXPECT_EQ(max_abs_diff(model(x), model[0]->forward(x)), 0.0);  // dropout is the identity
  model.train();
  EXPECT_TRUE(model[1]->is_training());

  nn::Dropout drop(0.25, &gen);
  gen.manual_seed(7);
  const Tensor first = drop(x);
  gen.manual_seed(7);
  const Tensor again = drop(x);
  EXPECT_EQ(max_abs_diff(first, again), 0.0);
  const Tensor third = drop(x);
  EXPECT_GT(max_abs_diff(first, third), 0.0);
  int64_t kept = 0;
  for (float v : first.to_vector<float>()) {
    ASSERT_TRUE(v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6f) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / 512.0, 0.75, 0.06);
  EXPECT_THAT([] { nn::Dropout(1.5); }, ThrowsMessage<ValueError>(HasSubstr("between 0 and 1")));
}

TEST(Module, ToDTypeKeepsHandlesAndIntegerBuffers) {
  Net net;
  Tensor weight = net.encoder->fc->weight;
  net.to(kFloat64);
  EXPECT_EQ(weight.dtype(), kFloat64);
  EXPECT_EQ(net.encoder->fc->weight.dtype(), kFloat64);
  EXPECT_TRUE(weight.requires_grad());
  EXPECT_EQ(net.encoder->norm->running_mean.dtype(), kFloat64);
  EXPECT_EQ(net.encoder->norm->num_batches_tracked.dtype(), kInt64);
  const Tensor y = net(randn({5, 4}, {.dtype = kFloat64}));
  EXPECT_EQ(y.dtype(), kFloat64);
  y.sum().backward();
  EXPECT_EQ(weight.grad().dtype(), kFloat64);
  net.to(Device::cpu());
  EXPECT_TRUE(weight.grad().defined());
  net.zero_grad(false);
  EXPECT_EQ(weight.grad().abs().sum().item<double>(), 0.0);
  net.zero_grad();
  EXPECT_FALSE(weight.grad().defined());
}

TEST(Module, SequentialOfTheSeedWorkflow) {
  nn::Sequential model(nn::EmbeddingBag(100, 64), nn::Linear(64, 5));
  nn::CrossEntropyLoss criterion;
  const Tensor tokens = randint(0, 100, {8, 12});
  const Tensor labels = randint(0, 5, {8});
  const Tensor loss = criterion(model(tokens), labels);
  EXPECT_EQ(loss.dim(), 0);
  loss.backward();
  for (const Tensor& p : model.parameters()) EXPECT_TRUE(p.grad().defined());
  EXPECT_EQ(model.size(), 2u);
  EXPECT_EQ(model.num_parameters(), 100 * 64 + 64 * 5 + 5);
  EXPECT_TRUE(model.at<nn::Linear>(1) != nullptr);
  EXPECT_TRUE(model.at<nn::Linear>(0) == nullptr);
  EXPECT_THAT([&] { model[2]; }, ThrowsMessage<IndexError>(HasSubstr("index 2")));
  // Shared layers: the container holds the same module, not a copy.
  auto shared = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential twice(shared, nn::Tanh(), shared);
  EXPECT_TRUE(twice[0] == twice[2]);
  EXPECT_THAT(names(twice.named_parameters()), ElementsAre("0.weight", "0.bias"));
  EXPECT_THAT(names(twice.state_dict()), ElementsAre("0.weight", "0.bias", "2.weight", "2.bias"));
  EXPECT_EQ(twice.num_parameters(), 12);
}

TEST(Init, DefaultInitialisationMatchesPyTorchDistributions) {
  manual_seed(0);
  nn::Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  for (const Tensor& t : {fc.weight, fc.bias}) {
    EXPECT_LE(t.abs().max().item<double>(), bound);
    EXPECT_GT(t.abs().max().item<double>(), 0.95 * bound);
  }
  // U(-b, b) has variance b^2 / 3.
  EXPECT_NEAR(var(fc.weight).item<double>(), bound * bound / 3.0, 0.03 * bound * bound);
  nn::Conv2d conv(6, 8, 5, {.groups = 2});
  EXPECT_LE(conv.weight.abs().max().item<double>(), 1.0 / std::sqrt(3.0 * 25.0));
  nn::Embedding emb(1000, 50, 3);
  EXPECT_NEAR(mean(emb.weight).item<double>(), 0.0, 0.02);
  EXPECT_NEAR(ignis::std(emb.weight).item<double>(), 1.0, 0.02);
  EXPECT_EQ(emb.weight.select(0, 3).abs().sum().item<double>(), 0.0);
  // A generator makes initialisation reproducible.
  Generator g1(5), g2(5);
  EXPECT_EQ(max_abs_diff(nn::Linear(3, 2, true, &g1).weight, nn::Linear(3, 2, true, &g2).weight),
            0.0);
}

TEST(Init, Initialisers) {
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("conv2d"), 1.0);
  EXPECT_THAT([] { nn::init::calculate_gain("swish"); },
              ThrowsMessage<ValueError>(HasSubstr("'swish'")));
  Generator gen(3);
  Tensor w = empty({200, 300});
  nn::init::xavier_uniform_(w, 1.0, &gen);
  EXPECT_LE(w.abs().max().item<double>(), std::sqrt(6.0 / 500.0));
  nn::init::xavier_normal_(w, 2.0, &gen);
  EXPECT_NEAR(ignis::std(w).item<double>(), 2.0 * std::sqrt(2.0 / 500.0), 0.002);
  nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::FanOut, "relu", &gen);
  EXPECT_NEAR(ignis::std(w).item<double>(), std::sqrt(2.0 / 200.0), 0.002);
  nn::init::kaiming_uniform_(w, 0.0, nn::init::FanMode::FanIn, "relu", &gen);
  EXPECT_LE(w.abs().max().item<double>(), std::sqrt(6.0 / 300.0));
  nn::init::constant_(w, 0.5);
  EXPECT_EQ(w.sum().item<double>(), 0.5 * 200 * 300);
  nn::init::zeros_(w);
  EXPECT_EQ(w.abs().sum().item<double>(), 0.0);
  nn::init::ones_(w);
  EXPECT_EQ(w.sum().item<double>(), 200.0 * 300.0);
  EXPECT_THAT([] { nn::init::xavier_uniform_(empty({3})); },
              ThrowsMessage<ShapeError>(HasSubstr("(3,)")));
}

TEST(Layers, BatchNormRunningStatistics) {
  nn::BatchNorm1d bn(2);
  const Tensor x = tensor({{1.0f, 2.0f}, {3.0f, 6.0f}, {5.0f, 1.0f}});
  Tensor y = bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  // mean (3, 3); unbiased var (4, 7); running = 0.9 * init + 0.1 * stat.
  EXPECT_NEAR(bn.running_mean.to_vector<float>()[0], 0.3f, 1e-6f);
  EXPECT_NEAR(bn.running_var.to_vector<float>()[0], 0.9f + 0.4f, 1e-6f);
  EXPECT_NEAR(bn.running_var.to_vector<float>()[1], 0.9f + 0.7f, 1e-6f);
  EXPECT_NEAR(mean(y, {0}).abs().max().item<double>(), 0.0, 1e-6);
  bn.eval();
  y = bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  EXPECT_NEAR(y.to_vector<float>()[0], (1.0f - 0.3f) / std::sqrt(1.3f + 1e-5f), 1e-5f);
  // momentum = none: the cumulative average of the batch statistics.
  nn::BatchNorm1d cumulative(2, {.momentum = std::nullopt});
  cumulative(x);
  cumulative(x * 3.0);
  EXPECT_NEAR(cumulative.running_mean.to_vector<float>()[0], (3.0f + 9.0f) / 2.0f, 1e-5f);
  EXPECT_THAT([&] { bn(zeros({3, 4})); },
              ThrowsMessage<ShapeError>(HasSubstr("BatchNorm1d: expected an input with 2")));
  bn.train();
  EXPECT_THAT([&] { bn(zeros({1, 2})); },
              ThrowsMessage<ValueError>(HasSubstr("more than 1 value per channel")));
}

TEST(Layers, EmbeddingPaddingRowGetsNoGradient) {
  nn::Embedding emb(5, 3, 0);
  const Tensor out = emb(tensor({{0, 2, 0}, {4, 0, 2}}));
  out.sum().backward();
  const std::vector<float> g = emb.weight.grad().to_vector<float>();
  EXPECT_THAT(std::vector<float>(g.begin(), g.begin() + 3), ElementsAre(0.0f, 0.0f, 0.0f));
  EXPECT_THAT(std::vector<float>(g.begin() + 6, g.begin() + 9), ElementsAre(2.0f, 2.0f, 2.0f));
}

TEST(Layers, ModulesMatchTheirFunctionalForm) {
  const Tensor x = randn({2, 3, 6, 6});
  NoGradGuard no_grad;
  nn::Conv2d conv(3, 4, 3, {.stride = 2, .padding = 1});
  EXPECT_EQ(max_abs_diff(conv(x), nn::functional::conv2d(x, conv.weight, conv.bias, 2, 1)), 0.0);
  EXPECT_EQ(conv(x).sizes(), (Shape{2, 4, 3, 3}));
  EXPECT_EQ(nn::MaxPool2d(2)(x).sizes(), (Shape{2, 3, 3, 3}));
  EXPECT_EQ(nn::AvgPool2d(3, 1, 1)(x).sizes(), (Shape{2, 3, 6, 6}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d(1)(x).sizes(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(nn::Flatten()(x).sizes(), (Shape{2, 108}));
  EXPECT_EQ(max_abs_diff(nn::Identity()(x), x), 0.0);
  EXPECT_EQ(max_abs_diff(nn::Tanh()(x), tanh(x)), 0.0);
  EXPECT_EQ(max_abs_diff(nn::Sigmoid()(x), sigmoid(x)), 0.0);
  EXPECT_EQ(max_abs_diff(nn::SiLU()(x), silu(x)), 0.0);
  EXPECT_EQ(max_abs_diff(nn::GELU()(x), gelu(x)), 0.0);
  EXPECT_EQ(max_abs_diff(nn::LogSoftmax(1)(x), log_softmax(x, 1)), 0.0);
  nn::LayerNorm ln({6, 6});
  EXPECT_EQ(max_abs_diff(ln(x), nn::functional::layer_norm(x, {6, 6})), 0.0);
  const Tensor logits = randn({4, 3}), target = tensor({0, 2, 1, 1});
  EXPECT_EQ(max_abs_diff(nn::CrossEntropyLoss({.label_smoothing = 0.1})(logits, target),
                         nn::functional::cross_entropy(logits, target, {.label_smoothing = 0.1})),
            0.0);
  EXPECT_EQ(max_abs_diff(nn::NLLLoss()(log_softmax(logits, 1), target),
                         nn::CrossEntropyLoss()(logits, target)),
            0.0);
  const Tensor p = sigmoid(logits), y = rand({4, 3});
  EXPECT_LT(max_abs_diff(nn::BCELoss()(p, y), nn::BCEWithLogitsLoss()(logits, y)), 1e-6);
  EXPECT_EQ(max_abs_diff(nn::MSELoss(nn::Reduction::Sum)(p, y), ((p - y) * (p - y)).sum()), 0.0);
  EXPECT_EQ(max_abs_diff(nn::L1Loss()(p, y), abs(p - y).mean()), 0.0);
  EXPECT_EQ(max_abs_diff(nn::HuberLoss(nn::Reduction::Mean, 10.0)(p, y),
                         nn::MSELoss()(p, y) * 0.5),
            0.0);
  EXPECT_LT(max_abs_diff(nn::SmoothL1Loss(nn::Reduction::Mean, 10.0)(p, y),
                         nn::MSELoss()(p, y) * 0.05),
            1e-7);
  nn::CrossEntropyLoss weighted({.weight = ones({3})});
  EXPECT_THAT(names(weighted.state_dict()), ElementsAre("weight"));
}

TEST(Layers, EmptyBatch) {
  namespace F = nn::functional;
  const Tensor x = zeros({0, 2, 6, 6});
  x.requires_grad_();
  nn::Conv2d conv(2, 3, 3, {.padding = 1});
  Tensor y = F::max_pool2d(conv(x), 2) + F::avg_pool2d(conv(x), 2) +
             F::adaptive_avg_pool2d(conv(x), 3);
  EXPECT_EQ(y.sizes(), (Shape{0, 3, 3, 3}));
  y.sum().backward();
  EXPECT_EQ(x.grad().sizes(), x.sizes());
  EXPECT_EQ(conv.weight.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(F::embedding_bag(zeros({0, 4}, {.dtype = kInt64}), ones({5, 2})).sizes(),
            (Shape{0, 2}));
  EXPECT_EQ(F::cross_entropy(zeros({0, 4}), zeros({0}, {.dtype = kInt64}),
                             {.reduction = nn::Reduction::Sum})
                .item<float>(),
            0.0f);
}

TEST(Layers, ErrorsNameTheShapes) {
  namespace F = nn::functional;
  EXPECT_THAT([] { F::conv2d(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3})); },
              ThrowsMessage<ShapeError>(HasSubstr("input (1, 3, 5, 5), weight (4, 2, 3, 3)")));
  EXPECT_THAT([] { F::conv2d(zeros({3, 5, 5}), zeros({4, 3, 3, 3})); },
              ThrowsMessage<ShapeError>(HasSubstr("conv2d: expected a 4-d input")));
  EXPECT_THAT([] { F::max_pool2d(zeros({1, 1, 2, 2}), 3); },
              ThrowsMessage<ShapeError>(HasSubstr("does not fit")));
  EXPECT_THAT([] { F::max_pool2d(zeros({1, 1, 4, 4}), 2, 2, 2); },
              ThrowsMessage<ValueError>(HasSubstr("at most half")));
  EXPECT_THAT([] { F::cross_entropy(zeros({4, 5}), tensor({1, 2, 3})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("expected a target of shape (4,) for input (4, 5), got (3,)")));
  EXPECT_THAT([] { F::cross_entropy(zeros({2, 5}), tensor({1, 5})); },
              ThrowsMessage<IndexError>(HasSubstr("target 5 is out of bounds for 5 classes")));
  EXPECT_THAT([] { F::cross_entropy(zeros({2, 5}), tensor({1, 2}), {.weight = ones({4})}); },
              ThrowsMessage<ShapeError>(HasSubstr("weight of shape (5,), got (4,)")));
  EXPECT_THAT([] { F::mse_loss(zeros({3, 4}), zeros({4})); },
              ThrowsMessage<ShapeError>(HasSubstr("mse_loss: input (3, 4) and target (4,)")));
  EXPECT_THAT([] { F::layer_norm(zeros({3, 4}), {3}); },
              ThrowsMessage<ShapeError>(HasSubstr("normalized_shape (3,)")));
  EXPECT_THAT([] { F::embedding_bag(tensor({1, 2}), zeros({5, 2}), tensor({1})); },
              ThrowsMessage<ValueError>(HasSubstr("offsets[0] has to be 0")));
  EXPECT_THAT([] { F::embedding_bag(tensor({1, 7}), zeros({5, 2}), tensor({0})); },
              ThrowsMessage<IndexError>(HasSubstr("index 7")));
  EXPECT_THAT(
      [] {
        F::embedding_bag(tensor({1, 2}), zeros({5, 2}), tensor({0}), nn::EmbeddingBagMode::Mean,
                         ones({2}));
      },
      ThrowsMessage<ValueError>(HasSubstr("only supported for mode 'sum'")));
}

}  // namespace
}  // namespace ignis
