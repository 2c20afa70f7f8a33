// The bag and mlp text classifiers and their saved-model directory (see text_model.h). Not the
// training loop: train.cpp.
#include "apps/ignis/text_model.h"

#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "nn/checkpoint.h"
#include "tensor/error.h"
#include "tensor/io/atomic_file.h"
#include "tensor/io/json.h"

namespace ignis::cli {

void validate(const TextModelConfig& config) {
  if (config.model != "bag" && config.model != "mlp") {
    throw ValueError("model: expected 'bag' or 'mlp', got '" + config.model + "'");
  }
  const std::pair<const char*, int64_t> sizes[] = {{"vocab_size", config.vocab_size},
                                                   {"embed_dim", config.embed_dim},
                                                   {"hidden", config.hidden},
                                                   {"num_classes", config.num_classes}};
  for (const auto& [name, value] : sizes) {
    if (value < 1) {
      throw ValueError(std::string(name) + ": must be >= 1, got " + std::to_string(value));
    }
  }
  if (!(config.dropout >= 0.0 && config.dropout < 1.0)) {
    throw ValueError("dropout: must be in [0, 1), got " + std::to_string(config.dropout));
  }
}

TextClassifier::TextClassifier(const TextModelConfig& config)
    : nn::Module("TextClassifier"), config_(config) {
  validate(config);
  embedding_ = register_module(
      "embedding", nn::EmbeddingBag(config.vocab_size, config.embed_dim,
                                    {.mode = nn::EmbeddingBagMode::Mean}));
  if (config.model == "bag") {
    head_ = register_module("head", nn::Sequential(nn::Linear(config.embed_dim, config.num_classes)));
  } else {
    head_ = register_module(
        "head", nn::Sequential(nn::Linear(config.embed_dim, config.hidden), nn::ReLU(),
                               nn::Dropout(config.dropout),
                               nn::Linear(config.hidden, config.num_classes)));
  }
}

Tensor TextClassifier::forward(const Tensor& inputs, const Tensor& offsets) {
  return head_->forward(embedding_->forward(inputs, offsets));  // (B, D) -> (B, C)
}

std::string config_to_json(const TextModelConfig& config) {
  json::Value::Object tokenizer{{"lowercase", config.tokenizer.lowercase},
                                {"bigrams", config.tokenizer.bigrams}};
  json::Value::Object columns{{"text", config.columns.text},
                              {"label", config.columns.label},
                              {"id", config.columns.id}};
  json::Value::Object root{{"format", "ignis-text-classifier"},
                           {"version", 1},
                           {"model", config.model},
                           {"vocab_size", config.vocab_size},
                           {"embed_dim", config.embed_dim},
                           {"hidden", config.hidden},
                           {"num_classes", config.num_classes},
                           {"dropout", config.dropout},
                           {"tokenizer", std::move(tokenizer)},
                           {"columns", std::move(columns)}};
  return json::dump(json::Value(std::move(root))) + "\n";
}

namespace {

// The member `key` of object `obj`, of kind `kind`; ParseError "<source>: <path>: ..." otherwise.
const json::Value& member(const json::Value& obj, std::string_view key, json::Value::Kind kind,
                          const std::string& source, std::string_view path) {
  const json::Value* value = obj.find(key);
  const std::string where = source + ": " + std::string(path) + std::string(key);
  if (value == nullptr) throw ParseError(where + ": missing");
  const bool number_ok = kind == json::Value::Kind::Double && value->is_number();
  if (value->kind() != kind && !number_ok) {
    throw ParseError(where + ": expected " + json::kind_name(kind) + ", got " +
                     json::kind_name(value->kind()));
  }
  return *value;
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IOError("cannot open '" + path.string() + "': " +
                  std::generic_category().message(errno));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TextModelConfig config_from_json(std::string_view text, const std::string& source) {
  using Kind = json::Value::Kind;
  const json::Value root = json::parse(text, {.source = source});
  if (!root.is_object()) throw ParseError(source + ": expected a JSON object");
  const std::string& format = member(root, "format", Kind::String, source, "").as_string();
  if (format != "ignis-text-classifier") {
    throw ParseError(source + ": format: expected 'ignis-text-classifier', got '" + format + "'");
  }
  const int64_t version = member(root, "version", Kind::Int, source, "").as_int();
  if (version != 1) {
    throw ParseError(source + ": version: expected 1, got " + std::to_string(version));
  }
  TextModelConfig config;
  config.model = member(root, "model", Kind::String, source, "").as_string();
  config.vocab_size = member(root, "vocab_size", Kind::Int, source, "").as_int();
  config.embed_dim = member(root, "embed_dim", Kind::Int, source, "").as_int();
  config.hidden = member(root, "hidden", Kind::Int, source, "").as_int();
  config.num_classes = member(root, "num_classes", Kind::Int, source, "").as_int();
  config.dropout = member(root, "dropout", Kind::Double, source, "").as_double();
  const json::Value& tokenizer = member(root, "tokenizer", Kind::Object, source, "");
  config.tokenizer.lowercase =
      member(tokenizer, "lowercase", Kind::Bool, source, "tokenizer.").as_bool();
  config.tokenizer.bigrams = member(tokenizer, "bigrams", Kind::Bool, source, "tokenizer.").as_bool();
  const json::Value& columns = member(root, "columns", Kind::Object, source, "");
  config.columns.text = member(columns, "text", Kind::String, source, "columns.").as_string();
  config.columns.label = member(columns, "label", Kind::String, source, "columns.").as_string();
  config.columns.id = member(columns, "id", Kind::String, source, "columns.").as_string();
  try {
    validate(config);
  } catch (const ValueError& e) {
    throw ParseError(source + ": " + e.what());
  }
  return config;
}

void save_model_dir(const std::filesystem::path& dir, const TextClassifier& model,
                    const data::Vocabulary& vocab, const data::LabelEncoder& labels) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw IOError("--save: cannot create directory '" + dir.string() + "': " + error.message());
  }
  nn::save(model, dir / kWeightsFile, {{"format", "ignis-text-classifier"}});
  vocab.save(dir / kVocabFile);
  labels.save(dir / kLabelsFile);
  write_file_atomic(dir / kConfigFile, config_to_json(model.config()));
}

SavedModel load_model_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw IOError("--load: '" + dir.string() + "' is not a model directory");
  }
  const std::filesystem::path config_path = dir / kConfigFile;
  SavedModel saved;
  saved.config = config_from_json(read_whole_file(config_path), config_path.string());
  saved.vocab = data::Vocabulary::load(dir / kVocabFile);
  saved.labels = data::LabelEncoder::load(dir / kLabelsFile);
  if (saved.vocab.size() != saved.config.vocab_size) {
    throw ValueError((dir / kVocabFile).string() + ": " + std::to_string(saved.vocab.size()) +
                     " tokens, but " + config_path.string() + " says vocab_size " +
                     std::to_string(saved.config.vocab_size));
  }
  if (saved.labels.size() != saved.config.num_classes) {
    throw ValueError((dir / kLabelsFile).string() + ": " + std::to_string(saved.labels.size()) +
                     " labels, but " + config_path.string() + " says num_classes " +
                     std::to_string(saved.config.num_classes));
  }
  saved.model = std::make_shared<TextClassifier>(saved.config);
  nn::load(*saved.model, dir / kWeightsFile);
  return saved;
}

}  // namespace ignis::cli
