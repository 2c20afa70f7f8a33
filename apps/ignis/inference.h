// Inference shared by `ignis train` and `ignis predict`, so that both write the same bytes:
// the predictor engine over a dataset and the predictions file. Not training: train.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/ignis/text_model.h"
#include "data/dataset.h"
#include "data/vocab.h"
#include "tensor/device.h"
#include "tensor/tensor.h"

namespace ignis::cli {

// Rows per batch at inference. Fixed (not --batch-size) so that a saved model predicts with
// exactly the arithmetic of the training run.
inline constexpr int64_t kInferenceBatchSize = 1024;

// The device named by a --device value, checked to be usable. Throws UsageError
// "--device: expected cpu or cuda[:N], got 'gpu'", or "--device cuda: no CUDA device available
// (ignis built without CUDA)" in a CPU-only build, "... (0 found)" when the GPU is missing.
Device device_from_flag(const std::string& text);

// `t` on `device` (no copy when it is there already). A pinned batch goes to a GPU without
// the host waiting for the copy (cuda::to_device).
Tensor to_device(const Tensor& t, Device device);

// The allocator of the loaders' batches (data::DataLoaderOptions::allocator) when they go to
// `device`: pinned host memory for a CUDA device, so that to_device copies them straight from
// the host buffer (no driver staging, full bus speed); nullptr (ordinary memory) otherwise.
Allocator* batch_allocator(Device device);

// The class index (argmax of the logits; the lowest index on ties) of every row of dataset,
// computed by a predictor engine in eval mode without gradients. Returns (dataset.size()).
std::vector<int64_t> predict_classes(TextClassifier& model,
                                     const data::TextClassificationDataset& dataset, Device device);

// Writes the predictions file atomically: header "id,<label_column>", then one line per row
// with ids[i] and the label string of classes[i], CSV-quoted where needed. Throws IOError
// naming the file when it cannot be written (an existing file is then left as it was).
void write_predictions(const std::filesystem::path& path, const std::vector<std::string>& ids,
                       const std::vector<int64_t>& classes, const data::LabelEncoder& labels,
                       const std::string& label_column);

}  // namespace ignis::cli
