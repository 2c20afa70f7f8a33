// The predictor engine and the predictions file (see inference.h). Not the evaluation with
// metrics: train.cpp attaches those to its evaluator.
#include "apps/ignis/inference.h"

#include <sstream>

#include "apps/ignis/flags.h"
#include "autograd/grad_mode.h"
#include "data/csv.h"
#include "data/dataloader.h"
#include "engine/engine.h"
#include "tensor/backend.h"
#include "tensor/error.h"
#include "tensor/io/atomic_file.h"

#ifdef IGNIS_HAVE_CUDA
#include "cuda/pinned.h"
#endif

namespace ignis::cli {

Device device_from_flag(const std::string& text) {
  Device device;
  try {
    device = Device::parse(text);
  } catch (const ValueError&) {
    throw UsageError("--device: expected cpu or cuda[:N], got '" + text + "'");
  }
  if (device.is_cuda()) {
    if (!cuda::is_compiled()) {
      throw UsageError("--device " + text + ": no CUDA device available (ignis built without CUDA)");
    }
    const int count = cuda::device_count();
    if (device.index >= count) {
      throw UsageError("--device " + text + ": no CUDA device available (" + std::to_string(count) +
                       " found)");
    }
  }
  return device;
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
#ifdef IGNIS_HAVE_CUDA
  // A pinned batch (batch_allocator) is copied without waiting for the copy.
  if (device.is_cuda()) return cuda::to_device(t, device);
#endif
  return t.to(device);
}

// Without the CUDA backend device_from_flag has refused every CUDA device.
Allocator* batch_allocator([[maybe_unused]] Device device) {
#ifdef IGNIS_HAVE_CUDA
  if (device.is_cuda()) return cuda::pinned_allocator();
#endif
  return nullptr;
}

std::vector<int64_t> predict_classes(TextClassifier& model,
                                     const data::TextClassificationDataset& dataset,
                                     Device device) {
  data::DataLoader loader(dataset, {.batch_size = kInferenceBatchSize,
                                    .shuffle = false,
                                    .allocator = batch_allocator(device)});
  engine::Engine predictor([&](engine::EngineBase&, const data::Batch& batch) {
    NoGradGuard no_grad;
    const Tensor logits =  // (B, C)
        model.forward(batch.inputs, batch.offsets);  // bags are read on the host
    return logits.argmax(1).cpu();  // (B) int64
  });
  std::vector<int64_t> classes(static_cast<size_t>(dataset.size()), -1);
  predictor.on(engine::Events::ITERATION_COMPLETED, [&](auto& e) {
    const data::Batch& batch = *e.state().batch;
    const std::vector<int64_t> predicted = e.state().output.template to_vector<int64_t>();
    for (size_t i = 0; i < predicted.size(); ++i) {
      classes[static_cast<size_t>(batch.rows[i])] = predicted[i];
    }
  });
  model.eval();
  predictor.run(loader);
  return classes;
}

void write_predictions(const std::filesystem::path& path, const std::vector<std::string>& ids,
                       const std::vector<int64_t>& classes, const data::LabelEncoder& labels,
                       const std::string& label_column) {
  std::ostringstream text;
  data::CsvWriter writer(text);
  writer.write_row({"id", label_column});
  for (size_t i = 0; i < ids.size(); ++i) {
    writer.write_row({ids[i], labels.decode(classes[i])});
  }
  write_file_atomic(path, text.str());
}

}  // namespace ignis::cli
