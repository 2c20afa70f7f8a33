// The seed's program in C++: a bag-of-words text classifier (EmbeddingBag(mean) -> Linear, as
// fastText) trained with Adam and cross-entropy on a slice of the default dataset, with Ignite-
// style trainer / evaluator / inferer engines and metrics, and predictions written with the
// original label names. A readable walk through the API, not the CLI (apps/ignis has flags,
// the full data and model saving).
//
// Usage: example_text_classification [DATASETS_DIR] [OUT_CSV]
//   DATASETS_DIR  the repository's datasets/ folder (default: the one beside examples/)
//   OUT_CSV       predictions file (default text_classification_submit.csv)
// Exits 1 if the model did not learn (valid accuracy no better than the majority class's).
//
// Dimension letters: B examples in a batch, N token indices in a batch, V vocabulary size,
// D embedding dimension, C classes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "data/csv.h"
#include "data/dataloader.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "ignis.h"
#include "metrics/accuracy.h"
#include "metrics/balanced_accuracy.h"
#include "metrics/loss.h"

using namespace ignis;

namespace {

constexpr int64_t kTrainRows = 3000;  // a slice, so that the example runs in seconds
constexpr int64_t kValidRows = 500;
constexpr int64_t kTestRows = 500;
constexpr int64_t kEmbedDim = 64;     // D
constexpr int64_t kEpochs = 5;

// The first n rows of a table (all of them if it has fewer).
data::TextTable first_rows(data::TextTable table, int64_t n) {
  const auto rows = static_cast<size_t>(std::min<int64_t>(n, std::ssize(table.ids)));
  table.ids.resize(rows);
  table.tokens.resize(rows);
  table.lines.resize(rows);
  if (table.has_labels) table.labels.resize(rows);
  return table;
}

// EmbeddingBag(V, D, mean) -> Linear(D, C): the mean of a document's token embeddings, then a
// linear classifier. Default initialisation: embeddings N(0, 1), Linear U(+-1/sqrt(D)).
class BagClassifier : public nn::Module {
 public:
  BagClassifier(int64_t vocab_size, int64_t embed_dim, int64_t num_classes)
      : nn::Module("BagClassifier"),
        embedding(register_module(
            "embedding",
            nn::EmbeddingBag(vocab_size, embed_dim, {.mode = nn::EmbeddingBagMode::Mean}))),
        fc(register_module("fc", nn::Linear(embed_dim, num_classes))) {}

  // inputs (N) token indices of B documents back to back, offsets (B) start of each document
  // -> logits (B, C).
  Tensor forward(const Tensor& inputs, const Tensor& offsets) {
    return fc->forward(embedding->forward(inputs, offsets));
  }
  using nn::Module::forward;

  std::shared_ptr<nn::EmbeddingBag> embedding;
  std::shared_ptr<nn::Linear> fc;
};

}  // namespace

int main(int argc, char** argv) {
  // CMake compiles with absolute source paths, so __FILE__ locates the repository.
  const std::filesystem::path datasets =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::path(__FILE__).parent_path().parent_path() / "datasets";
  const std::filesystem::path out = argc > 2 ? argv[2] : "text_classification_submit.csv";
  manual_seed(0);

  // ---- data: CSV -> tokens -> vocabulary and label indices -> batches ----
  const data::Tokenizer tokenizer;  // lowercased words, no bigrams
  const data::TextTable train_table =
      first_rows(data::read_text_csv(datasets / "wordnet/train.csv", tokenizer), kTrainRows);
  const data::TextTable valid_table =
      first_rows(data::read_text_csv(datasets / "wordnet/valid.csv", tokenizer), kValidRows);
  const data::TextTable test_table = first_rows(
      data::read_text_csv(datasets / "wordnet/test.csv", tokenizer, {}, /*require_label=*/false),
      kTestRows);

  const data::Vocabulary vocab = data::Vocabulary::build(train_table.tokens);
  const data::LabelEncoder labels = data::LabelEncoder::fit(train_table.labels);
  const data::TextClassificationDataset train_set(train_table, vocab, &labels);
  const data::TextClassificationDataset valid_set(valid_table, vocab, &labels);
  const data::TextClassificationDataset test_set(test_table, vocab, nullptr);
  std::printf("%lld train / %lld valid / %lld test rows, vocabulary %lld, %lld classes\n",
              static_cast<long long>(train_set.size()), static_cast<long long>(valid_set.size()),
              static_cast<long long>(test_set.size()), static_cast<long long>(vocab.size()),
              static_cast<long long>(labels.size()));

  data::DataLoader train_loader(train_set, {.batch_size = 64, .shuffle = true, .seed = 0});
  data::DataLoader train_eval_loader(train_set, {.batch_size = 256});
  data::DataLoader valid_loader(valid_set, {.batch_size = 256});
  data::DataLoader test_loader(test_set, {.batch_size = 256});

  // ---- model, optimizer, loss ----
  BagClassifier model(vocab.size(), kEmbedDim, labels.size());
  optim::Adam optimizer(model.parameters(), {.lr = 1e-2, .weight_decay = 1e-5});
  nn::CrossEntropyLoss criterion;

  // ---- the trainer: one optimizer step per batch ----
  engine::Engine trainer([&](engine::EngineBase&, const data::Batch& batch) {
    model.train();
    optimizer.zero_grad();
    Tensor loss = criterion(model.forward(batch.inputs, batch.offsets), batch.targets);
    loss.backward();
    optimizer.step();
    return engine::Output<double>{.loss = loss.item<double>()};
  });

  // ---- the evaluator: a no-grad forward; the metrics read {y_pred, y} ----
  engine::Engine evaluator([&](engine::EngineBase&, const data::Batch& batch) {
    NoGradGuard no_grad;
    model.eval();
    return engine::Output<Tensor>{.y_pred = model.forward(batch.inputs, batch.offsets),
                                  .y = batch.targets};
  });
  metrics::Accuracy().attach(evaluator, "accuracy");
  metrics::Loss(criterion).attach(evaluator, "loss");
  metrics::BalancedAccuracy().attach(evaluator, "balanced_accuracy");

  // After each epoch: the metrics on the training set, then on the validation set.
  double valid_accuracy = 0.0;
  trainer.on(engine::Events::EPOCH_COMPLETED, [&](engine::EngineBase& e) {
    const auto epoch = static_cast<int>(e.state().epoch);
    const auto train = evaluator.run(train_eval_loader).metrics;
    std::printf("[%02d] TRAIN  Accuracy: %.2f  Loss: %.2f\n", epoch, train.at("accuracy"),
                train.at("loss"));
    const auto valid = evaluator.run(valid_loader).metrics;
    std::printf("[%02d] VALID  Accuracy: %.2f  Loss: %.2f  Balanced accuracy: %.2f\n", epoch,
                valid.at("accuracy"), valid.at("loss"), valid.at("balanced_accuracy"));
    valid_accuracy = valid.at("accuracy");
  });

  // ---- the inferer: predicted class of each test row, written with the original labels ----
  engine::Engine inferer([&](engine::EngineBase&, const data::Batch& batch) {
    NoGradGuard no_grad;
    model.eval();
    return model.forward(batch.inputs, batch.offsets).argmax(1);  // (B) class indices
  });
  std::vector<int64_t> predicted(static_cast<size_t>(test_set.size()));
  inferer.on(engine::Events::ITERATION_COMPLETED, [&](auto& e) {
    const std::vector<int64_t> classes = e.state().output.template to_vector<int64_t>();
    for (size_t i = 0; i < classes.size(); ++i) {
      predicted[static_cast<size_t>(e.state().batch->rows[i])] = classes[i];
    }
  });
  trainer.on(engine::Events::COMPLETED, [&] {
    inferer.run(test_loader);
    std::ostringstream csv;
    data::CsvWriter writer(csv);
    writer.write_row({"id", "label"});
    for (size_t i = 0; i < predicted.size(); ++i) {
      writer.write_row({test_table.ids[i], labels.decode(predicted[i])});
    }
    write_file_atomic(out, csv.str());  // a temporary file renamed: never half written
    std::printf("wrote %zu predictions to %s\n", predicted.size(), out.string().c_str());
  });

  trainer.run(train_loader, kEpochs);

  // The largest class holds about 12% of the rows: a model that learned beats that clearly.
  if (!(valid_accuracy > 0.25)) {
    std::fprintf(stderr, "text_classification: valid accuracy %.3f, expected > 0.25\n",
                 valid_accuracy);
    return 1;
  }
  return 0;
}
