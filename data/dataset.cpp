// read_text_csv, TextClassificationDataset and the seeded splits of dataset.h.
// Not batching or shuffling per epoch: see dataloader.cpp.
#include "data/dataset.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "data/csv.h"
#include "tensor/error.h"
#include "tensor/generator.h"

namespace ignis::data {

namespace {

void check_fraction(double fraction, const char* op) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    std::ostringstream message;
    message << op << ": second_fraction must be in (0, 1), got " << fraction;
    throw ValueError(message.str());
  }
}

void check_row(int64_t i, int64_t size, const char* op) {
  if (i < 0 || i >= size) {
    throw IndexError(std::string(op) + ": row " + std::to_string(i) + " out of range for size " +
                     std::to_string(size));
  }
}

// Visits the rows in a seeded random order and moves a row of class c to the second part
// while quota[c] is positive. classes: (n) class of each row.
std::pair<std::vector<int64_t>, std::vector<int64_t>> split_by_quota(
    const std::vector<int64_t>& classes, std::map<int64_t, int64_t> quota, uint64_t seed) {
  const int64_t n = static_cast<int64_t>(classes.size());
  std::vector<char> in_second(classes.size(), 0);
  for (int64_t row : shuffled_indices(n, seed, kSplitStream)) {
    int64_t& left = quota[classes[row]];
    if (left > 0) {
      in_second[row] = 1;
      --left;
    }
  }
  std::pair<std::vector<int64_t>, std::vector<int64_t>> parts;
  for (int64_t row = 0; row < n; ++row) {
    (in_second[row] ? parts.second : parts.first).push_back(row);
  }
  return parts;
}

}  // namespace

TextTable read_text_csv(const std::filesystem::path& path, const Tokenizer& tokenizer,
                        const TextColumns& columns, bool require_label) {
  CsvReader reader(path);
  const int64_t text_column = reader.column(columns.text);
  const std::optional<int64_t> label_column =
      require_label ? std::optional<int64_t>(reader.column(columns.label))
                    : reader.find_column(columns.label);
  const std::optional<int64_t> id_column = reader.find_column(columns.id);

  TextTable table;
  table.name = reader.name();
  table.has_labels = label_column.has_value();
  std::vector<std::string> fields;
  std::string where;
  while (reader.next(fields)) {
    const int64_t row = static_cast<int64_t>(table.lines.size());
    where = reader.name() + ":" + std::to_string(reader.line());
    table.tokens.emplace_back();
    tokenizer.tokenize(fields[text_column], table.tokens.back(), where);
    table.ids.push_back(id_column ? std::move(fields[*id_column]) : std::to_string(row));
    if (label_column) table.labels.push_back(std::move(fields[*label_column]));
    table.lines.push_back(reader.line());
  }
  if (table.lines.empty()) throw ParseError(reader.name() + ": no data rows");
  return table;
}

TextClassificationDataset::TextClassificationDataset(const TextTable& table,
                                                     const Vocabulary& vocab,
                                                     const LabelEncoder* labels) {
  const size_t n = table.tokens.size();
  has_labels_ = labels != nullptr && table.has_labels;
  if (table.lines.size() != n || (has_labels_ && table.labels.size() != n)) {
    throw ValueError("TextClassificationDataset: table '" + table.name + "' has " +
                     std::to_string(n) + " token rows, " + std::to_string(table.lines.size()) +
                     " lines and " + std::to_string(table.labels.size()) + " labels");
  }
  tokens_.resize(n);
  for (size_t i = 0; i < n; ++i) vocab.tokens_to_indices(table.tokens[i], tokens_[i]);
  labels_.assign(n, -1);
  if (!has_labels_) return;
  for (size_t i = 0; i < n; ++i) {
    const std::optional<int64_t> index = labels->find(table.labels[i]);
    if (!index) {
      throw ValueError(table.name + ":" + std::to_string(table.lines[i]) + ": unknown label '" +
                       table.labels[i] + "' (not in the training data)");
    }
    labels_[i] = *index;
  }
}

const std::vector<int64_t>& TextClassificationDataset::tokens(int64_t i) const {
  check_row(i, size(), "TextClassificationDataset::tokens");
  return tokens_[static_cast<size_t>(i)];
}

int64_t TextClassificationDataset::label(int64_t i) const {
  check_row(i, size(), "TextClassificationDataset::label");
  return labels_[static_cast<size_t>(i)];
}

TextClassificationDataset TextClassificationDataset::subset(
    const std::vector<int64_t>& rows) const {
  TextClassificationDataset out;
  out.has_labels_ = has_labels_;
  out.tokens_.reserve(rows.size());
  out.labels_.reserve(rows.size());
  for (int64_t row : rows) {
    check_row(row, size(), "TextClassificationDataset::subset");
    out.tokens_.push_back(tokens_[static_cast<size_t>(row)]);
    out.labels_.push_back(labels_[static_cast<size_t>(row)]);
  }
  return out;
}

std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t stream) {
  if (n < 0) throw ValueError("shuffled_indices: n must be >= 0, got " + std::to_string(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  const std::array<uint32_t, 2> key = {static_cast<uint32_t>(seed),
                                       static_cast<uint32_t>(seed >> 32)};
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t step = static_cast<uint64_t>(i);
    const std::array<uint32_t, 4> words = philox4x32_10(
        {static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32),
         static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)},
        key);
    const uint64_t r = (static_cast<uint64_t>(words[0]) << 32) | words[1];
    const uint64_t j = r % (step + 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> random_split(int64_t n,
                                                                   double second_fraction,
                                                                   uint64_t seed) {
  check_fraction(second_fraction, "random_split");
  if (n < 0) throw ValueError("random_split: n must be >= 0, got " + std::to_string(n));
  const double share = second_fraction * static_cast<double>(n);
  const auto take = static_cast<int64_t>(std::llround(share));
  return split_by_quota(std::vector<int64_t>(static_cast<size_t>(n), 0), {{0, take}}, seed);
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> stratified_split(
    const std::vector<int64_t>& labels, double second_fraction, uint64_t seed) {
  check_fraction(second_fraction, "stratified_split");
  std::map<int64_t, int64_t> quota;
  for (int64_t label : labels) ++quota[label];
  for (auto& [label, count] : quota) {
    const double share = second_fraction * static_cast<double>(count);
    count = std::min(static_cast<int64_t>(std::llround(share)), count - 1);
  }
  return split_by_quota(labels, std::move(quota), seed);
}

}  // namespace ignis::data
