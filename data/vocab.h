// Vocabulary (token <-> index, with <pad> and <unk>) and LabelEncoder (class label <-> index),
// both saved as UTF-8 text, one entry per line. Not a tokenizer: see tokenizer.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ignis::data {

namespace detail {

// Lets an unordered_map keyed by std::string be searched with a string_view, no copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using StringToIndex = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

}  // namespace detail

struct VocabOptions {
  int64_t min_freq = 1;             // keep tokens seen at least this often; >= 1
  std::optional<int64_t> max_size = std::nullopt;  // at most this many tokens besides the specials
};

// Token <-> index. Index 0 is "<pad>" (padding), 1 is "<unk>" (any token not in the
// vocabulary), then the kept tokens, most frequent first.
//
// File format (save / load): UTF-8 text, one token per line ("\n"-terminated) in index order,
// the specials included, so line k + 1 holds the token of index k. A "\r" before the "\n" is
// ignored on load.
class Vocabulary {
 public:
  static constexpr int64_t kPadIndex = 0;  // "<pad>"
  static constexpr int64_t kUnkIndex = 1;  // "<unk>"
  static constexpr std::string_view kPadToken = "<pad>";
  static constexpr std::string_view kUnkToken = "<unk>";

  // Only the two specials: size() == 2.
  Vocabulary();

  // Counts each token over all documents; keeps those with count >= min_freq; orders them by
  // count descending, then by token bytes ascending (unsigned, as memcmp); keeps the first
  // max_size; indices 0 "<pad>", 1 "<unk>", then the kept tokens. A document token equal to
  // "<pad>" or "<unk>" is not added again (it is already the special).
  // Throws ValueError for min_freq < 1 or max_size < 0.
  static Vocabulary build(const std::vector<std::vector<std::string>>& documents,
                          VocabOptions options = {});

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  // The index of `token`; kUnkIndex when absent.
  int64_t index(std::string_view token) const;
  // Throws IndexError "Vocabulary: index 7 out of range for size 5".
  const std::string& token(int64_t index) const;
  bool contains(std::string_view token) const;
  const std::vector<std::string>& tokens() const { return tokens_; }

  // index() of each token, (n,) -> (n,).
  std::vector<int64_t> tokens_to_indices(const std::vector<std::string>& tokens) const;
  // As above, appending to `out`.
  void tokens_to_indices(const std::vector<std::string>& tokens, std::vector<int64_t>& out) const;
  // token() of each index; throws IndexError as token().
  std::vector<std::string> indices_to_tokens(const std::vector<int64_t>& indices) const;

  // Writes the file format above atomically (tensor/io/atomic_file.h). Throws ValueError for a
  // token holding "\n" or "\r" (it could not be read back), IOError when the file cannot be
  // written.
  void save(const std::filesystem::path& path) const;
  // Reads the file format above. Throws IOError "cannot open 'F': <reason>", ParseError
  // "F:1: expected '<pad>', found 'x'", "F:2: expected '<unk>', found 'x'",
  // "F:12: duplicate token 'x' (also on line 5)".
  static Vocabulary load(const std::filesystem::path& path);

 private:
  void add(std::string token);  // appends a token known not to be present

  std::vector<std::string> tokens_;  // (size,) token of each index
  detail::StringToIndex index_;      // token -> index
};

// Class label <-> index. fit() orders the distinct labels by bytes, so that the same label set
// always gives the same indices whatever the order of the rows.
//
// File format (save / load): UTF-8 text, one label per line ("\n"-terminated) in index order;
// a "\r" before the "\n" is ignored on load.
class LabelEncoder {
 public:
  LabelEncoder() = default;

  // The distinct labels sorted by bytes (unsigned, as memcmp). Throws ValueError "LabelEncoder::
  // fit: no labels" for an empty list.
  static LabelEncoder fit(const std::vector<std::string>& labels);
  // The classes in the given order. Throws ValueError "LabelEncoder: duplicate label 'x'".
  explicit LabelEncoder(std::vector<std::string> classes);

  int64_t size() const { return static_cast<int64_t>(classes_.size()); }
  // Throws ValueError "unknown label 'x' (known: a, b, c)" (at most 10 listed).
  int64_t encode(std::string_view label) const;
  // The index of `label`, nullopt when unknown.
  std::optional<int64_t> find(std::string_view label) const;
  // Throws IndexError "LabelEncoder: index 7 out of range for size 3".
  const std::string& decode(int64_t index) const;
  // decode() of each index, (n,) -> (n,).
  std::vector<std::string> indices_to_labels(const std::vector<int64_t>& indices) const;
  const std::vector<std::string>& classes() const { return classes_; }

  // Writes the file format above atomically. Throws ValueError when there are no labels or a
  // label holds "\n" or "\r", IOError when the file cannot be written.
  void save(const std::filesystem::path& path) const;
  // Reads the file format above. Throws IOError "cannot open 'F': <reason>", ParseError
  // "F: empty file, expected one label per line", "F:4: duplicate label 'x' (also on line 2)".
  static LabelEncoder load(const std::filesystem::path& path);

 private:
  std::vector<std::string> classes_;  // (size,) label of each index
  detail::StringToIndex index_;       // label -> index
};

}  // namespace ignis::data
