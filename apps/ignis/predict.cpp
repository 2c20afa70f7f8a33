// `ignis predict`: reads a model directory saved by `ignis train --save` and writes the
// predictions file for a CSV, byte for byte what the training run wrote for the same file.
// Not training: train.cpp.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "apps/ignis/commands.h"
#include "apps/ignis/flags.h"
#include "apps/ignis/inference.h"
#include "apps/ignis/text_model.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "tensor/thread_pool.h"

namespace ignis::cli {
namespace {

Flags predict_flags() {
  Flags flags("ignis predict",
              "Writes predictions for --test with a model saved by `ignis train --save DIR`:\n"
              "the same tokenizer, vocabulary, labels and columns as the training run.");
  using K = FlagKind;
  flags.add({"load", K::String, "DIR", "", "model directory written by ignis train --save (required)"});
  flags.add({"test", K::String, "F", "", "CSV to predict (required)"});
  flags.add({"out", K::String, "F", "submit.csv", "predictions file: id,<label-column>"});
  flags.add({"device", K::String, "cpu|cuda", "cpu", "where to run the model"});
  flags.add({"threads", K::Integer, "N", "", "CPU threads (default: all cores, or IGNIS_NUM_THREADS)"});
  return flags;
}

}  // namespace

int run_predict(const std::vector<std::string>& args) {
  Flags flags = predict_flags();
  flags.parse(args);
  if (flags.help_requested()) {
    std::cout << flags.help();
    return 0;
  }
  for (const char* required : {"load", "test"}) {
    if (!flags.given(required)) flags.fail(required, "required (see ignis predict --help)");
  }
  const Device device = device_from_flag(flags.str("device"));
  if (flags.given("threads")) {
    const int64_t threads = flags.integer("threads");
    if (threads < 1) flags.fail("threads", "must be >= 1, got " + std::to_string(threads));
    set_num_threads(static_cast<int>(threads));
  }

  SavedModel saved = load_model_dir(flags.str("load"));
  const data::Tokenizer tokenizer(saved.config.tokenizer);
  data::TextTable table = data::read_text_csv(flags.str("test"), tokenizer, saved.config.columns,
                                              /*require_label=*/false);
  const data::TextClassificationDataset dataset(table, saved.vocab, nullptr);
  table.tokens = {};
  saved.model->to(device);

  const std::filesystem::path out = flags.str("out");
  write_predictions(out, table.ids, predict_classes(*saved.model, dataset, device), saved.labels,
                    saved.config.columns.label);
  std::cout << "ignis predict: wrote " << dataset.size() << " predictions to " << out.string()
            << std::endl;
  return 0;
}

}  // namespace ignis::cli
