// Vocabulary and LabelEncoder: building, lookups and the one-entry-per-line text files.
// Not tokenization: the tokens arrive already split (tokenizer.h).
#include "data/vocab.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "tensor/error.h"
#include "tensor/io/atomic_file.h"

namespace ignis::data {

namespace {

// The entries of a one-entry-per-line file: each "\n"-terminated line (the last one may lack
// its "\n"), a "\r" before the "\n" dropped. Throws IOError when the file cannot be read.
std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw IOError("cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  std::string content;
  char chunk[1 << 16];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) content.append(chunk, got);
  if (std::ferror(file.get())) {
    throw IOError("cannot read '" + path.string() + "': " + std::strerror(errno));
  }

  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < content.size()) {
    size_t end = content.find('\n', begin);
    if (end == std::string::npos) end = content.size();
    size_t stop = end;
    if (stop > begin && content[stop - 1] == '\r') --stop;
    lines.emplace_back(content, begin, stop - begin);
    begin = end + 1;
  }
  return lines;
}

// Writes `entries` one per line, atomically. Throws ValueError naming `owner` and `what` for an
// entry holding a line break, which could not be read back.
void write_lines(const std::filesystem::path& path, const std::vector<std::string>& entries,
                 std::string_view owner, std::string_view what) {
  std::string content;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].find_first_of("\r\n") != std::string::npos) {
      throw ValueError(std::string(owner) + "::save: " + std::string(what) + " " +
                       std::to_string(i) + " holds a line break, which the file format cannot " +
                       "store ('" + path.string() + "')");
    }
    content += entries[i];
    content += '\n';
  }
  write_file_atomic(path, content);
}

// "F:12: duplicate token 'x' (also on line 5)" when `entry` is already in `index`.
void check_not_duplicate(const detail::StringToIndex& index, const std::string& entry,
                         int64_t line, const std::filesystem::path& path, std::string_view what) {
  const auto found = index.find(entry);
  if (found != index.end()) {
    throw ParseError(path.string() + ":" + std::to_string(line) + ": duplicate " +
                     std::string(what) + " '" + entry + "' (also on line " +
                     std::to_string(found->second + 1) + ")");
  }
}

[[noreturn]] void throw_index_out_of_range(std::string_view owner, int64_t index, int64_t size) {
  throw IndexError(std::string(owner) + ": index " + std::to_string(index) +
                   " out of range for size " + std::to_string(size));
}

}  // namespace

// ---- Vocabulary ----

Vocabulary::Vocabulary() {
  add(std::string(kPadToken));
  add(std::string(kUnkToken));
}

void Vocabulary::add(std::string token) {
  index_.emplace(token, size());
  tokens_.push_back(std::move(token));
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& documents,
                             VocabOptions options) {
  if (options.min_freq < 1) {
    throw ValueError("Vocabulary::build: min_freq must be >= 1, got " +
                     std::to_string(options.min_freq));
  }
  if (options.max_size && *options.max_size < 0) {
    throw ValueError("Vocabulary::build: max_size must be >= 0, got " +
                     std::to_string(*options.max_size));
  }
  detail::StringToIndex counts;
  for (const std::vector<std::string>& document : documents) {
    for (const std::string& token : document) {
      const auto found = counts.find(token);
      if (found == counts.end()) {
        counts.emplace(token, 1);
      } else {
        ++found->second;
      }
    }
  }

  struct Counted {
    const std::string* token;
    int64_t count;
  };
  std::vector<Counted> kept;
  for (const auto& [token, count] : counts) {
    if (count >= options.min_freq && token != kPadToken && token != kUnkToken) {
      kept.push_back({&token, count});
    }
  }
  std::sort(kept.begin(), kept.end(), [](const Counted& a, const Counted& b) {
    if (a.count != b.count) return a.count > b.count;
    return *a.token < *b.token;
  });
  if (options.max_size && static_cast<size_t>(*options.max_size) < kept.size()) {
    kept.resize(static_cast<size_t>(*options.max_size));
  }

  Vocabulary vocab;
  vocab.tokens_.reserve(vocab.tokens_.size() + kept.size());
  vocab.index_.reserve(vocab.tokens_.size() + kept.size());
  for (const Counted& counted : kept) vocab.add(*counted.token);
  return vocab;
}

int64_t Vocabulary::index(std::string_view token) const {
  const auto found = index_.find(token);
  return found == index_.end() ? kUnkIndex : found->second;
}

const std::string& Vocabulary::token(int64_t index) const {
  if (index < 0 || index >= size()) throw_index_out_of_range("Vocabulary", index, size());
  return tokens_[static_cast<size_t>(index)];
}

bool Vocabulary::contains(std::string_view token) const { return index_.contains(token); }

std::vector<int64_t> Vocabulary::tokens_to_indices(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> indices;
  tokens_to_indices(tokens, indices);
  return indices;
}

void Vocabulary::tokens_to_indices(const std::vector<std::string>& tokens,
                                   std::vector<int64_t>& out) const {
  out.reserve(out.size() + tokens.size());
  for (const std::string& token : tokens) out.push_back(index(token));
}

std::vector<std::string> Vocabulary::indices_to_tokens(const std::vector<int64_t>& indices) const {
  std::vector<std::string> tokens;
  tokens.reserve(indices.size());
  for (const int64_t index : indices) tokens.push_back(token(index));
  return tokens;
}

void Vocabulary::save(const std::filesystem::path& path) const {
  write_lines(path, tokens_, "Vocabulary", "token");
}

Vocabulary Vocabulary::load(const std::filesystem::path& path) {
  std::vector<std::string> lines = read_lines(path);
  const std::string_view specials[] = {kPadToken, kUnkToken};
  for (size_t k = 0; k < 2; ++k) {
    if (k >= lines.size() || lines[k] != specials[k]) {
      const std::string found = k < lines.size() ? "'" + lines[k] + "'" : "end of file";
      throw ParseError(path.string() + ":" + std::to_string(k + 1) + ": expected '" +
                       std::string(specials[k]) + "', found " + found);
    }
  }
  Vocabulary vocab;
  vocab.tokens_.reserve(lines.size());
  vocab.index_.reserve(lines.size());
  for (size_t k = 2; k < lines.size(); ++k) {
    check_not_duplicate(vocab.index_, lines[k], static_cast<int64_t>(k + 1), path, "token");
    vocab.add(std::move(lines[k]));
  }
  return vocab;
}

// ---- LabelEncoder ----

LabelEncoder::LabelEncoder(std::vector<std::string> classes) : classes_(std::move(classes)) {
  index_.reserve(classes_.size());
  for (size_t i = 0; i < classes_.size(); ++i) {
    if (!index_.emplace(classes_[i], static_cast<int64_t>(i)).second) {
      throw ValueError("LabelEncoder: duplicate label '" + classes_[i] + "'");
    }
  }
}

LabelEncoder LabelEncoder::fit(const std::vector<std::string>& labels) {
  if (labels.empty()) throw ValueError("LabelEncoder::fit: no labels");
  std::vector<std::string> classes = labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  return LabelEncoder(std::move(classes));
}

std::optional<int64_t> LabelEncoder::find(std::string_view label) const {
  const auto found = index_.find(label);
  if (found == index_.end()) return std::nullopt;
  return found->second;
}

int64_t LabelEncoder::encode(std::string_view label) const {
  if (const std::optional<int64_t> index = find(label)) return *index;
  constexpr size_t kListed = 10;
  std::string known;
  for (size_t i = 0; i < std::min(kListed, classes_.size()); ++i) {
    if (i > 0) known += ", ";
    known += classes_[i];
  }
  if (classes_.size() > kListed) {
    known += " ... and " + std::to_string(classes_.size() - kListed) + " more";
  }
  throw ValueError("unknown label '" + std::string(label) + "' (known: " + known + ")");
}

const std::string& LabelEncoder::decode(int64_t index) const {
  if (index < 0 || index >= size()) throw_index_out_of_range("LabelEncoder", index, size());
  return classes_[static_cast<size_t>(index)];
}

std::vector<std::string> LabelEncoder::indices_to_labels(const std::vector<int64_t>& indices) const {
  std::vector<std::string> labels;
  labels.reserve(indices.size());
  for (const int64_t index : indices) labels.push_back(decode(index));
  return labels;
}

void LabelEncoder::save(const std::filesystem::path& path) const {
  if (classes_.empty()) {
    throw ValueError("LabelEncoder::save: no labels to save to '" + path.string() + "'");
  }
  write_lines(path, classes_, "LabelEncoder", "label");
}

LabelEncoder LabelEncoder::load(const std::filesystem::path& path) {
  std::vector<std::string> lines = read_lines(path);
  if (lines.empty()) {
    throw ParseError(path.string() + ": empty file, expected one label per line");
  }
  LabelEncoder encoder;
  encoder.index_.reserve(lines.size());
  for (size_t k = 0; k < lines.size(); ++k) {
    check_not_duplicate(encoder.index_, lines[k], static_cast<int64_t>(k + 1), path, "label");
    encoder.index_.emplace(lines[k], static_cast<int64_t>(k));
  }
  encoder.classes_ = std::move(lines);
  return encoder;
}

}  // namespace ignis::data
