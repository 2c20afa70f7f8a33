// The event engine on its own: a toy "training" loop over integers that shows events,
// filters, a metric written into state().metrics, terminate and the progress bar.
// Not a model: the process function only averages numbers. Exits 1 if the run goes wrong.
#include <cstdio>
#include <iostream>
#include <numeric>
#include <vector>

#include "engine/engine.h"
#include "engine/handlers/progress_bar.h"

using namespace ignis;

int main() {
  std::vector<int> loader(20);  // 20 "batches": the numbers 0..19
  std::iota(loader.begin(), loader.end(), 0);

  // Batch and output types come from the lambda: Engine<int, engine::Output<double>>.
  engine::Engine trainer([](engine::EngineBase&, const int& batch) {
    return engine::Output{.loss = 1.0 / (1.0 + batch)};
  });

  // A "metric": the mean loss of each epoch, reset / updated / computed by three handlers.
  double loss_sum = 0.0;
  int64_t count = 0;
  trainer.on(engine::Events::EPOCH_STARTED, [&] { loss_sum = 0.0, count = 0; });
  trainer.on(engine::Events::ITERATION_COMPLETED, [&](auto& e) {
    loss_sum += e.state().output.loss;
    ++count;
  });
  trainer.on(engine::Events::EPOCH_COMPLETED, [&](engine::EngineBase& e) {
    e.state().metrics["mean_loss"] = loss_sum / static_cast<double>(count);
  });

  // Filters: every 10th iteration, and once at epoch 2.
  trainer.on(engine::Events::ITERATION_COMPLETED(engine::every(10)), [](engine::EngineBase& e) {
    std::printf("iteration %lld done\n", static_cast<long long>(e.state().iteration));
  });
  trainer.on(engine::Events::EPOCH_COMPLETED(engine::once(2)), [](engine::EngineBase& e) {
    std::printf("epoch 2: mean loss %.4f\n", e.state().metrics.at("mean_loss"));
  });
  // Stop after 3 of the 5 epochs: TERMINATE, then COMPLETED.
  trainer.on(engine::Events::EPOCH_COMPLETED(engine::once(3)),
             [](engine::EngineBase& e) { e.terminate(); });

  engine::ProgressBar bar(
      {.stream = &std::cout, .tty = false, .percent_step = 50, .metric_names = {"mean_loss"}});
  bar.attach(trainer);

  auto& state = trainer.run(loader, /*max_epochs=*/5);
  std::printf("stopped at epoch %lld, iteration %lld\n", static_cast<long long>(state.epoch),
              static_cast<long long>(state.iteration));
  return state.epoch == 3 && state.iteration == 60 ? 0 : 1;
}
