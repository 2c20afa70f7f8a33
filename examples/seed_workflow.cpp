// The seed workflow on synthetic data: a trainer engine fits a small classifier, an evaluator
// with metrics scores it on train and valid after each epoch, an inferer predicts at the end.
// Not the ignis CLI (apps/ignis) and not a benchmark. Exits 1 if the model did not learn.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ignis.h"
#include "metrics/accuracy.h"
#include "metrics/balanced_accuracy.h"
#include "metrics/epoch_output_store.h"
#include "metrics/loss.h"

using namespace ignis;

namespace {

const std::vector<std::string> kLabels = {"north", "east", "south", "west"};

// Rows of a 2-d Gaussian-blob problem: class c sits at angle c * 90 degrees on a circle of
// radius 2. Classes are imbalanced (40/30/20/10 %) and overlap a little, so accuracy and
// balanced accuracy differ and neither reaches 1.
struct Rows {
  std::vector<float> x;    // (N, 2), row-major
  std::vector<int64_t> y;  // (N), class indices
};

Rows make_blobs(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::discrete_distribution<int64_t> pick_class({0.4, 0.3, 0.2, 0.1});
  std::normal_distribution<float> noise(0.f, 0.7f);
  Rows rows;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = pick_class(rng);
    const float angle = 1.5707964f * static_cast<float>(c);
    rows.x.push_back(2.f * std::cos(angle) + noise(rng));
    rows.x.push_back(2.f * std::sin(angle) + noise(rng));
    rows.y.push_back(c);
  }
  return rows;
}

struct Batch {
  Tensor inputs;   // (B, 2) float32
  Tensor targets;  // (B) int64
};

// A tiny loader. With a seed, each pass is shuffled by (seed, epoch): the engine calls
// set_epoch before begin(), so a run is reproducible and a resumed run sees the same batches.
class Loader {
 public:
  Loader(const Rows& rows, size_t batch_size, std::optional<uint64_t> seed = std::nullopt)
      : rows_(rows), batch_size_(batch_size), seed_(seed) {}
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  size_t size() const { return (rows_.y.size() + batch_size_ - 1) / batch_size_; }
  std::vector<Batch>::const_iterator end() const { return batches_.cend(); }
  std::vector<Batch>::const_iterator begin() {
    std::vector<size_t> order(rows_.y.size());
    std::iota(order.begin(), order.end(), 0);
    if (seed_) {
      std::mt19937_64 rng(*seed_ * 1000003 + static_cast<uint64_t>(epoch_));
      std::shuffle(order.begin(), order.end(), rng);
    }
    batches_.clear();
    for (size_t start = 0; start < order.size(); start += batch_size_) {
      std::vector<float> x;
      std::vector<int64_t> y;
      for (size_t i = start; i < std::min(order.size(), start + batch_size_); ++i) {
        x.insert(x.end(), {rows_.x[2 * order[i]], rows_.x[2 * order[i] + 1]});
        y.push_back(rows_.y[order[i]]);
      }
      const auto b = static_cast<int64_t>(y.size());
      batches_.push_back({from_vector(x, Shape{b, 2}), from_vector(y)});
    }
    return batches_.cbegin();
  }

 private:
  const Rows& rows_;
  size_t batch_size_;
  std::optional<uint64_t> seed_;
  int64_t epoch_ = 0;
  std::vector<Batch> batches_;
};

}  // namespace

int main() {
  const Rows train = make_blobs(600, 1), valid = make_blobs(200, 2), test = make_blobs(8, 3);
  Loader train_loader(train, 32, /*seed=*/0);
  // Evaluation gets its own loaders: scoring the train set at EPOCH_COMPLETED must not touch
  // the loader the trainer is iterating.
  Loader train_eval_loader(train, 200), valid_loader(valid, 200), test_loader(test, 8);

  manual_seed(0);  // the weights' initialisation
  nn::Sequential model(nn::Linear(2, 32), nn::ReLU(), nn::Linear(32, 4));
  optim::Adam optimizer(model.parameters(), {.lr = 1e-2, .weight_decay = 1e-4});
  nn::CrossEntropyLoss criterion;

  engine::Engine trainer([&](engine::EngineBase&, const Batch& batch) {
    model.train();
    optimizer.zero_grad();
    Tensor loss = criterion(model(batch.inputs), batch.targets);
    loss.backward();
    optimizer.step();
    return engine::Output{.loss = loss.item<double>()};
  });

  // The evaluator only runs the model forward; its metrics read {y_pred, y} from the output.
  engine::Engine evaluator([&](engine::EngineBase&, const Batch& batch) {
    model.eval();
    NoGradGuard no_grad;
    return engine::Output<Tensor>{.y_pred = model(batch.inputs), .y = batch.targets};
  });
  metrics::Accuracy().attach(evaluator, "accuracy");
  metrics::Loss(criterion).attach(evaluator, "loss");
  metrics::BalancedAccuracy().attach(evaluator, "balanced_accuracy");

  // A running loss (an exponential average, as Ignite's RunningAverage) every 10 iterations.
  double running_loss = 0.0;
  trainer.on(engine::Events::ITERATION_COMPLETED, [&](auto& e) {
    const double loss = e.state().output.loss;
    running_loss = e.state().iteration == 1 ? loss : 0.9 * running_loss + 0.1 * loss;
  });
  trainer.on(engine::Events::ITERATION_COMPLETED(engine::every(10)), [&](engine::EngineBase& e) {
    std::printf("  iteration %3lld  running loss %.4f\n",
                static_cast<long long>(e.state().iteration), running_loss);
  });

  // After each epoch: score train and valid, printed in the CLI's format.
  double valid_accuracy = 0.0, valid_balanced = 0.0;
  trainer.on(engine::Events::EPOCH_COMPLETED, [&](engine::EngineBase& e) {
    const auto epoch = static_cast<int>(e.state().epoch);
    const auto& m = evaluator.run(train_eval_loader).metrics;
    std::printf("[%02d] TRAIN  Accuracy: %.2f  Loss: %.2f\n", epoch, m.at("accuracy"),
                m.at("loss"));
    const auto& v = evaluator.run(valid_loader).metrics;
    std::printf("[%02d] VALID  Accuracy: %.2f  Loss: %.2f  Balanced accuracy: %.2f\n", epoch,
                v.at("accuracy"), v.at("loss"), v.at("balanced_accuracy"));
    valid_accuracy = v.at("accuracy");
    valid_balanced = v.at("balanced_accuracy");
  });

  // At the end: predict the test rows; the inferer's outputs are gathered by EpochOutputStore
  // and written as the CLI's predictions file would be (id, label name), here into a string.
  engine::Engine inferer([&](engine::EngineBase&, const Batch& batch) {
    model.eval();
    NoGradGuard no_grad;
    return engine::Output<Tensor>{.y_pred = model(batch.inputs)};
  });
  metrics::EpochOutputStore store;
  store.attach(inferer);
  std::string predictions = "id,label\n";
  trainer.on(engine::Events::COMPLETED, [&] {
    inferer.run(test_loader);
    const std::vector<int64_t> classes = store.y_pred().argmax(1).to_vector<int64_t>();  // (N)
    for (size_t i = 0; i < classes.size(); ++i) {
      predictions += std::to_string(i) + "," + kLabels[classes[i]] + "\n";
    }
    std::printf("%s", predictions.c_str());
  });

  trainer.run(train_loader, /*max_epochs=*/5);

  // Well above chance (0.40 for always "north") on both measures, or the example failed.
  if (valid_accuracy < 0.85 || valid_balanced < 0.80) {
    std::fprintf(stderr, "seed_workflow: did not learn: valid accuracy %.2f, balanced %.2f\n",
                 valid_accuracy, valid_balanced);
    return 1;
  }
  return 0;
}
