// Text classification data: a CSV file read and tokenized (TextTable), its token and label
// indices (TextClassificationDataset), and seeded splits. Not batching: see dataloader.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/tokenizer.h"
#include "data/vocab.h"

namespace ignis::data {

// The names of the columns read_text_csv looks for.
struct TextColumns {
  std::string text = "text";
  std::string label = "label";
  std::string id = "id";
};

// A CSV read and tokenized: one entry per data row (n rows).
struct TextTable {
  std::string name;                              // the file name, for messages
  std::vector<std::string> ids;                  // (n) the id column, or "0", "1", ... when absent
  std::vector<std::vector<std::string>> tokens;  // (n) tokens of the text column
  std::vector<std::string> labels;               // (n) the label column; empty when absent
  std::vector<int64_t> lines;                    // (n) line where each row starts, for messages
  bool has_labels = false;                       // whether the file has the label column
};

// Reads `path` with CsvReader (header row required) and tokenizes the text column of each row.
// Throws IOError when the file cannot be opened; ValueError "F:1: no column 'text' (columns:
// ...)" when the text column is missing, or the label column and require_label; ParseError
// "F: no data rows" for a file with a header only, and what CsvReader and the tokenizer throw
// for malformed content ("F:17:5: ...").
TextTable read_text_csv(const std::filesystem::path& path, const Tokenizer& tokenizer,
                        const TextColumns& columns = {}, bool require_label = true);

// Token indices and label indices of a TextTable, ready for DataLoader.
class TextClassificationDataset {
 public:
  TextClassificationDataset() = default;  // empty and unlabelled
  // Maps each row's tokens through vocab (unknown tokens -> Vocabulary::kUnkIndex) and, when
  // labels is given and the table has labels, each label through the encoder; otherwise the
  // dataset is unlabelled (every label is -1).
  // Throws ValueError "F:17: unknown label 'x' (not in the training data)" for a label the
  // encoder does not know, and ValueError when the table's columns differ in length.
  TextClassificationDataset(const TextTable& table, const Vocabulary& vocab,
                            const LabelEncoder* labels);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  // Token indices of row i (IndexError outside [0, size())).
  const std::vector<int64_t>& tokens(int64_t i) const;
  // Label index of row i, -1 when unlabelled (IndexError outside [0, size())).
  int64_t label(int64_t i) const;
  bool has_labels() const { return has_labels_; }
  // (size()) label index of each row; all -1 when unlabelled.
  const std::vector<int64_t>& labels() const { return labels_; }
  // The dataset of the given rows, in the given order (repeats allowed); IndexError for a row
  // outside [0, size()).
  TextClassificationDataset subset(const std::vector<int64_t>& rows) const;

 private:
  std::vector<std::vector<int64_t>> tokens_;  // (n) token indices per row
  std::vector<int64_t> labels_;               // (n) label index per row, -1 when unlabelled
  bool has_labels_ = false;
};

// A permutation of 0..n-1 that is a pure function of (seed, stream), the same on every
// platform: Fisher-Yates from the back, step i (i = n-1 .. 1) swapping i with
// j = r mod (i + 1), r = (w0 << 32 | w1) from philox4x32_10(counter = {lo(i), hi(i), lo(stream),
// hi(stream)}, key = {lo(seed), hi(seed)}) (tensor/generator.h); the modulo bias is below
// n / 2^64. DataLoader uses stream = epoch, the splits kSplitStream. ValueError for n < 0.
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t stream);
inline constexpr uint64_t kSplitStream = uint64_t{1} << 63;

// Rows 0..n-1 split in two from a seed: the second part gets round(second_fraction * n) rows
// (half away from zero), the first shuffled_indices(n, seed, kSplitStream) rows; both parts
// sorted ascending. ValueError when second_fraction is not in (0, 1) or n < 0.
std::pair<std::vector<int64_t>, std::vector<int64_t>> random_split(int64_t n,
                                                                   double second_fraction,
                                                                   uint64_t seed);
// The same per class: of the rows labelled c (count k_c), the second part gets
// min(round(second_fraction * k_c), k_c - 1), the first in shuffled_indices order, so every
// class keeps at least one row in the first part (a class with one row stays there).
// Both parts sorted ascending. ValueError when second_fraction is not in (0, 1).
std::pair<std::vector<int64_t>, std::vector<int64_t>> stratified_split(
    const std::vector<int64_t>& labels, double second_fraction, uint64_t seed);

}  // namespace ignis::data
