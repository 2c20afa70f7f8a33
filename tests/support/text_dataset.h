// An in-memory text-classification dataset for the loader tests: n rows, row i holding i % 5
// tokens ("w<i>", "w<i+1>", ...), so rows 0, 5, 10, ... are empty, labelled "c<i % 3>" or
// unlabelled. Test support only. NOTE: dataset points at labels: the fixture is not copyable.
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "data/vocab.h"

namespace ignis::test {

struct TextDatasetFixture {
  explicit TextDatasetFixture(int64_t n, bool labelled = true) {
    data::TextTable table;
    table.name = "mem.csv";
    table.has_labels = labelled;
    for (int64_t i = 0; i < n; ++i) {
      table.ids.push_back(std::to_string(i));
      table.tokens.emplace_back();
      for (int64_t k = 0; k < i % 5; ++k) {
        table.tokens.back().push_back("w" + std::to_string(i + k));
      }
      if (labelled) table.labels.push_back("c" + std::to_string(i % 3));
      table.lines.push_back(i + 2);
    }
    vocab = data::Vocabulary::build(table.tokens);
    labels = data::LabelEncoder::fit({"c0", "c1", "c2"});
    dataset = data::TextClassificationDataset(table, vocab, &labels);
  }
  TextDatasetFixture(const TextDatasetFixture&) = delete;
  TextDatasetFixture& operator=(const TextDatasetFixture&) = delete;

  data::Vocabulary vocab;
  data::LabelEncoder labels;
  data::TextClassificationDataset dataset;
};

}  // namespace ignis::test
