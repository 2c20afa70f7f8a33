// The text classifiers of the ignis program (bag: EmbeddingBag(mean) -> Linear, as fastText;
// mlp: EmbeddingBag(mean) -> Linear -> ReLU -> Dropout -> Linear), their configuration, and
// the saved-model directory (weights, vocabulary, labels, config.json). Not the training loop
// (train.cpp) nor the data pipeline (data/).
//
// Dimension letters: B examples in a batch, N token indices in a batch, V vocabulary size,
// D embedding dimension, H hidden units, C classes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "nn/container.h"
#include "nn/layers.h"
#include "nn/module.h"

namespace ignis::cli {

// Everything needed to rebuild a model and read new data the way it was trained.
struct TextModelConfig {
  std::string model = "bag";  // "bag" or "mlp"
  int64_t vocab_size = 0;     // V
  int64_t embed_dim = 64;     // D
  int64_t hidden = 128;       // H (mlp only)
  int64_t num_classes = 0;    // C
  double dropout = 0.5;       // mlp only
  data::TokenizerOptions tokenizer{};
  data::TextColumns columns{};
};

// Checks the numbers and the model kind of a configuration. Throws ValueError naming the
// field ("model: expected 'bag' or 'mlp', got 'cnn'", "embed_dim: must be >= 1, got 0").
void validate(const TextModelConfig& config);

// Module names (state_dict keys, as PyTorch's twin names them):
//   embedding.weight (V, D); bag: head.0.weight (C, D), head.0.bias (C);
//   mlp: head.0.weight (H, D), head.0.bias (H), head.3.weight (C, H), head.3.bias (C).
// Initialisation: the layers' defaults (embedding N(0, 1), Linear U(-1/sqrt(in), 1/sqrt(in)))
// from default_generator(), so manual_seed fixes it; dropout masks from the same generator.
class TextClassifier : public nn::Module {
 public:
  // Throws as validate(config).
  explicit TextClassifier(const TextModelConfig& config);

  // inputs (N) int64 token indices of B documents back to back, offsets (B) int64 start of
  // each document (an empty document is an empty bag, embedded as zeros) -> logits (B, C).
  Tensor forward(const Tensor& inputs, const Tensor& offsets);
  using nn::Module::forward;

  const TextModelConfig& config() const { return config_; }

 private:
  TextModelConfig config_;
  std::shared_ptr<nn::EmbeddingBag> embedding_;
  std::shared_ptr<nn::Sequential> head_;
};

// A model directory, as `ignis train --save DIR` writes it and `ignis predict --load DIR`
// reads it.
struct SavedModel {
  TextModelConfig config;
  data::Vocabulary vocab;
  data::LabelEncoder labels;
  std::shared_ptr<TextClassifier> model;
};

// File names inside a model directory.
inline constexpr const char* kWeightsFile = "model.safetensors";
inline constexpr const char* kVocabFile = "vocab.txt";
inline constexpr const char* kLabelsFile = "labels.txt";
inline constexpr const char* kConfigFile = "config.json";

// Creates dir (and its parents) and writes the four files, each atomically. Throws IOError
// naming the path when the directory or a file cannot be written.
void save_model_dir(const std::filesystem::path& dir, const TextClassifier& model,
                    const data::Vocabulary& vocab, const data::LabelEncoder& labels);

// Reads a model directory back. Throws IOError for a missing directory or file, ParseError
// "DIR/config.json: ..." for a malformed configuration, ValueError when the vocabulary or the
// labels do not match the configuration's sizes, and nn::load's errors for the weights.
SavedModel load_model_dir(const std::filesystem::path& dir);

// The configuration as config.json holds it, and back. config_from_json throws ParseError
// "<source>: ..." naming a missing or mistyped field.
std::string config_to_json(const TextModelConfig& config);
TextModelConfig config_from_json(std::string_view text, const std::string& source);

}  // namespace ignis::cli
