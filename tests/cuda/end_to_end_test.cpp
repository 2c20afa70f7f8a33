// End to end on CUDA: 20 Adam steps of the text model `ignis train` builds (EmbeddingBag mean
// -> Linear, cross-entropy) and of a small CNN (conv, ReLU, max-pool, linear) give the CPU's
// losses step by step and its final parameters, from the same seed and the same batches.
// Not a per-op parity test (the other files of tests/cuda/ are); skipped without a device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nn/container.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "optim/adam.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/factory.h"
#include "tensor/generator.h"

namespace ignis {
namespace {

using test::Tolerance;
using test::tensors_close;

constexpr int kSteps = 20;
constexpr int kBatches = 4;  // the steps cycle over them, so the losses fall as they are learnt
constexpr uint64_t kSeed = 7;

// The stated tolerance. Both devices compute in float32 but sum in other orders (cuBLAS
// GEMMs, the embedding bag's and the convolution's reductions) and round exp and log their
// own ways, so values differ by float32 rounding, which 20 steps of Adam carry but do not blow
// up: losses within 2e-5 relative, parameters within 1e-4 relative + 5e-5 absolute. That is
// about 100 times the gap between float32 and float64 runs of the same steps on the CPU
// (losses 2.7e-7, parameters 2e-7), which Float32EndToEnd below checks it admits; a wrong
// kernel moves a loss by 1e-3 or more, and a gradient of the wrong sign moves a weight by lr.
constexpr Tolerance kLossTolerance{.rtol = 2e-5, .atol = 1e-6};
constexpr Tolerance kParamTolerance{.rtol = 1e-4, .atol = 5e-5};

// What a run leaves: the loss of each step and the final parameters (on the CPU, float64).
struct TrainingRun {
  std::vector<double> losses;
  nn::StateDict params;
};

// kSteps steps of Adam on `model` (already on its device and dtype); loss_at(step) is the
// step's scalar loss, computed on the model's device.
template <typename LossAt>
TrainingRun train(nn::Module& model, const optim::AdamOptions& options, LossAt&& loss_at) {
  optim::Adam optimizer(model.parameters(), options);
  TrainingRun run;
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    const Tensor loss = loss_at(step);
    run.losses.push_back(loss.item<double>());
    loss.backward();
    optimizer.step();
  }
  for (const auto& [name, param] : model.named_parameters()) {
    run.params.emplace_back(name, param.detach().cpu().to(kFloat64));
  }
  return run;
}

// The losses step by step, then each parameter, within the tolerances.
void expect_same_run(const TrainingRun& got, const TrainingRun& want) {
  ASSERT_EQ(got.losses.size(), want.losses.size());
  for (size_t step = 0; step < want.losses.size(); ++step) {
    const double allowed =
        kLossTolerance.rtol * std::abs(want.losses[step]) + kLossTolerance.atol;
    EXPECT_NEAR(got.losses[step], want.losses[step], allowed) << "loss of step " << step;
  }
  ASSERT_EQ(got.params.size(), want.params.size());
  for (size_t k = 0; k < want.params.size(); ++k) {
    ASSERT_EQ(got.params[k].first, want.params[k].first);
    EXPECT_TRUE(tensors_close("parameter " + want.params[k].first + " after " +
                                  std::to_string(kSteps) + " steps",
                              got.params[k].second, want.params[k].second, kParamTolerance));
  }
}

// A run that trains: finite losses, and the last pass over the batches at least 5% below the
// first, so that matching runs mean more than matching initial values.
void expect_learns(const TrainingRun& run) {
  std::ostringstream losses;
  double first_pass = 0.0, last_pass = 0.0;
  for (size_t step = 0; step < run.losses.size(); ++step) {
    ASSERT_TRUE(std::isfinite(run.losses[step])) << "loss of step " << step;
    losses << " " << run.losses[step];
    if (step < kBatches) first_pass += run.losses[step];
    if (step >= run.losses.size() - kBatches) last_pass += run.losses[step];
  }
  EXPECT_LT(last_pass, 0.95 * first_pass) << "losses:" << losses.str();
}

// ---- the text model ----

// As `ignis train --model bag` builds it (apps/ignis/text_model.h), in the same order, so
// one seed gives both the same initialisation: embedding (V, D), then head.0 (C, D).
class TextBag : public nn::Module {
 public:
  TextBag(int64_t vocab, int64_t dim, int64_t classes) : nn::Module("TextBag") {
    embedding_ = register_module(
        "embedding", nn::EmbeddingBag(vocab, dim, {.mode = nn::EmbeddingBagMode::Mean}));
    head_ = register_module("head", nn::Sequential(nn::Linear(dim, classes)));
  }
  // inputs (N) int64 token ids, offsets (B) int64 bag starts -> logits (B, C)
  Tensor forward(const Tensor& inputs, const Tensor& offsets) {
    return head_->forward(embedding_->forward(inputs, offsets));
  }
  using nn::Module::forward;

 private:
  std::shared_ptr<nn::EmbeddingBag> embedding_;
  std::shared_ptr<nn::Sequential> head_;
};

struct TextBatch {
  Tensor inputs;   // (N) int64 in [0, V)
  Tensor offsets;  // (B) int64
  Tensor targets;  // (B) int64 in [0, C)
};

constexpr int64_t kVocab = 300, kDim = 16, kClasses = 4, kDocs = 16;

// kBatches batches of kDocs documents of 0 to 9 tokens (an empty document is an empty bag).
std::vector<TextBatch> text_batches() {
  Generator gen(kSeed);
  std::vector<TextBatch> batches;
  for (int b = 0; b < kBatches; ++b) {
    const std::vector<int64_t> lengths =
        randint(0, 10, {kDocs}, {.dtype = kInt64}, &gen).to_vector<int64_t>();
    std::vector<int64_t> offsets;
    int64_t total = 0;
    for (const int64_t length : lengths) {
      offsets.push_back(total);
      total += length;
    }
    batches.push_back({randint(0, kVocab, {total}, {.dtype = kInt64}, &gen), from_vector(offsets),
                       randint(0, kClasses, {kDocs}, {.dtype = kInt64}, &gen)});
  }
  return batches;
}

// The text job's 20 steps on `device` in `dtype`: lr and weight decay are `ignis train`'s.
TrainingRun train_text(Device device, DType dtype) {
  const std::vector<TextBatch> batches = text_batches();
  manual_seed(kSeed);
  TextBag model(kVocab, kDim, kClasses);
  model.to(dtype);
  model.to(device);
  nn::CrossEntropyLoss criterion;
  return train(model, {.lr = 1e-2, .weight_decay = 1e-5}, [&](int step) {
    const TextBatch& batch = batches[static_cast<size_t>(step % kBatches)];
    return criterion(model.forward(batch.inputs.to(device), batch.offsets.to(device)),
                     batch.targets.to(device));
  });
}

// ---- the CNN ----

constexpr int64_t kImages = 16, kSide = 12, kImageClasses = 10;

// The Fashion-MNIST CNN of `ignis train-images --model cnn`, narrowed: (N, 1, 12, 12) ->
// conv 1->4 3x3 pad 1, ReLU, pool 2 -> conv 4->8 3x3 pad 1, ReLU, pool 2 -> (N, 72) -> 10.
nn::Sequential small_cnn() {
  return nn::Sequential(nn::Conv2d(1, 4, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(4, 8, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(8 * 3 * 3, kImageClasses));
}

struct ImageBatch {
  Tensor images;   // (N, 1, 12, 12) float64, N(0, 1)
  Tensor targets;  // (N) int64 in [0, 10)
};

std::vector<ImageBatch> image_batches() {
  Generator gen(kSeed + 1);
  std::vector<ImageBatch> batches;
  for (int b = 0; b < kBatches; ++b) {
    Tensor images = randn({kImages, 1, kSide, kSide}, {.dtype = kFloat64}, &gen);
    batches.push_back({images, randint(0, kImageClasses, {kImages}, {.dtype = kInt64}, &gen)});
  }
  return batches;
}

// 20 steps of Adam with the image job's weight decay (1e-5) and a larger lr (1e-2, the
// job's is 1e-3), so that 20 steps learn the batches.
TrainingRun train_cnn(Device device, DType dtype) {
  const std::vector<ImageBatch> batches = image_batches();
  manual_seed(kSeed);
  nn::Sequential model = small_cnn();
  model.to(dtype);
  model.to(device);
  nn::CrossEntropyLoss criterion;
  return train(model, {.lr = 1e-2, .weight_decay = 1e-5}, [&](int step) {
    const ImageBatch& batch = batches[static_cast<size_t>(step % kBatches)];
    return criterion(model(batch.images.to(dtype).to(device)), batch.targets.to(device));
  });
}

// ---- the tests ----

class CudaEndToEnd : public test::CudaTest {};

TEST_F(CudaEndToEnd, TextModelTrainsAsOnTheCpu) {
  expect_same_run(train_text(Device::cuda(), kFloat32), train_text(Device::cpu(), kFloat32));
}

TEST_F(CudaEndToEnd, CnnTrainsAsOnTheCpu) {
  expect_same_run(train_cnn(Device::cuda(), kFloat32), train_cnn(Device::cpu(), kFloat32));
}

// Runs without a device: both jobs learn, and the tolerance above admits what float32
// rounding does to them (float32 against float64 on the CPU, a gap of the same kind as two
// float32 summation orders), so a CUDA failure means more than rounding.
TEST(Float32EndToEnd, ToleranceAdmitsFloat32RoundingOnTheCpu) {
  const TrainingRun text = train_text(Device::cpu(), kFloat32);
  expect_learns(text);
  expect_same_run(text, train_text(Device::cpu(), kFloat64));
  const TrainingRun cnn = train_cnn(Device::cpu(), kFloat32);
  expect_learns(cnn);
  expect_same_run(cnn, train_cnn(Device::cpu(), kFloat64));
}

}  // namespace
}  // namespace ignis
