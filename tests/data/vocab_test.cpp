// Tests of data/vocab: Vocabulary building (order, min_freq, max_size), lookups, the text file
// round trip and its errors; LabelEncoder's sorted order, unknown labels and files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "tensor/error.h"

namespace ignis::data {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::ThrowsMessage;

class TempDir {
 public:
  TempDir() : dir_(fs::temp_directory_path() / ("ignis_vocab_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() { fs::remove_all(dir_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path operator/(const std::string& name) const { return dir_ / name; }
  // The names of the files in the directory.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

 private:
  fs::path dir_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// ---- Vocabulary ----

TEST(Vocabulary, StartsWithTheTwoSpecials) {
  const Vocabulary vocab;
  EXPECT_EQ(vocab.size(), 2);
  EXPECT_EQ(vocab.index("<pad>"), Vocabulary::kPadIndex);
  EXPECT_EQ(vocab.index("<unk>"), Vocabulary::kUnkIndex);
  EXPECT_EQ(vocab.token(0), "<pad>");
  EXPECT_EQ(vocab.token(1), "<unk>");
  EXPECT_EQ(vocab.index("anything"), Vocabulary::kUnkIndex);
}

TEST(Vocabulary, BuildOrdersByCountThenBytes) {
  // Counts: b 3, a 2, then four tokens seen once, in byte order: "Z" < "c" < "z" < "é" (0xC3).
  const Vocabulary vocab =
      Vocabulary::build({{"b", "a", "z", "b"}, {"é", "a", "b", "c"}, {}, {"Z"}});
  EXPECT_THAT(vocab.tokens(), ElementsAre("<pad>", "<unk>", "b", "a", "Z", "c", "z", "é"));
  EXPECT_EQ(vocab.size(), 8);
  EXPECT_EQ(vocab.index("b"), 2);
  EXPECT_EQ(vocab.index("é"), 7);
  EXPECT_TRUE(vocab.contains("a"));
  EXPECT_FALSE(vocab.contains("A"));
  EXPECT_EQ(vocab.index("A"), Vocabulary::kUnkIndex);
}

TEST(Vocabulary, MinFreqAndMaxSize) {
  const std::vector<std::vector<std::string>> docs = {{"x", "y", "y", "z", "z", "z"}, {"x", "w"}};
  EXPECT_THAT(Vocabulary::build(docs, {.min_freq = 2}).tokens(),
              ElementsAre("<pad>", "<unk>", "z", "x", "y"));
  EXPECT_THAT(Vocabulary::build(docs, {.min_freq = 3}).tokens(),
              ElementsAre("<pad>", "<unk>", "z"));
  EXPECT_THAT(Vocabulary::build(docs, {.max_size = 2}).tokens(),
              ElementsAre("<pad>", "<unk>", "z", "x"));
  EXPECT_THAT(Vocabulary::build(docs, {.max_size = 0}).tokens(), ElementsAre("<pad>", "<unk>"));
  EXPECT_THAT(Vocabulary::build(docs, {.min_freq = 2, .max_size = 10}).tokens(),
              ElementsAre("<pad>", "<unk>", "z", "x", "y"));
  EXPECT_THAT(Vocabulary::build({}).tokens(), ElementsAre("<pad>", "<unk>"));
}

TEST(Vocabulary, BuildRejectsBadOptions) {
  EXPECT_THAT([] { Vocabulary::build({{"a"}}, {.min_freq = 0}); },
              ThrowsMessage<ValueError>(HasSubstr("min_freq must be >= 1, got 0")));
  EXPECT_THAT([] { Vocabulary::build({{"a"}}, {.max_size = -1}); },
              ThrowsMessage<ValueError>(HasSubstr("max_size must be >= 0, got -1")));
}

TEST(Vocabulary, SpecialTokensInDocumentsAreNotAddedTwice) {
  const Vocabulary vocab = Vocabulary::build({{"<unk>", "<unk>", "a", "<pad>"}});
  EXPECT_THAT(vocab.tokens(), ElementsAre("<pad>", "<unk>", "a"));
}

TEST(Vocabulary, TokensToIndicesAndBack) {
  const Vocabulary vocab = Vocabulary::build({{"the", "cat", "the"}});
  EXPECT_THAT(vocab.tokens_to_indices({"the", "dog", "cat"}), ElementsAre(2, 1, 3));
  std::vector<int64_t> out = {7};
  vocab.tokens_to_indices({"cat"}, out);
  vocab.tokens_to_indices({}, out);
  vocab.tokens_to_indices({"the", "bird"}, out);
  EXPECT_THAT(out, ElementsAre(7, 3, 2, 1));
  EXPECT_THAT(vocab.indices_to_tokens({3, 0, 1, 2}), ElementsAre("cat", "<pad>", "<unk>", "the"));
  EXPECT_THAT(vocab.tokens_to_indices({}), IsEmpty());
}

TEST(Vocabulary, IndexOutOfRange) {
  const Vocabulary vocab = Vocabulary::build({{"a", "b", "c"}});
  EXPECT_THAT([&] { vocab.token(7); },
              ThrowsMessage<IndexError>("Vocabulary: index 7 out of range for size 5"));
  EXPECT_THAT([&] { vocab.token(-1); },
              ThrowsMessage<IndexError>("Vocabulary: index -1 out of range for size 5"));
  EXPECT_THAT([&] { vocab.indices_to_tokens({0, 5}); },
              ThrowsMessage<IndexError>(HasSubstr("index 5 out of range for size 5")));
}

TEST(Vocabulary, SaveLoadRoundTrip) {
  TempDir dir;
  const Vocabulary vocab = Vocabulary::build({{"b", "a", "b", "café", "日本"}});
  const fs::path path = dir / "vocab.txt";
  vocab.save(path);
  EXPECT_EQ(read_file(path), "<pad>\n<unk>\nb\na\ncafé\n日本\n");
  EXPECT_THAT(dir.files(), ElementsAre("vocab.txt"));  // no temporary file left behind

  const Vocabulary loaded = Vocabulary::load(path);
  EXPECT_EQ(loaded.tokens(), vocab.tokens());
  EXPECT_EQ(loaded.index("café"), 4);
  EXPECT_EQ(loaded.index("zzz"), Vocabulary::kUnkIndex);

  // Saving again replaces the file as a whole.
  Vocabulary().save(path);
  EXPECT_EQ(read_file(path), "<pad>\n<unk>\n");
  EXPECT_EQ(Vocabulary::load(path).size(), 2);
}

TEST(Vocabulary, LoadAcceptsCrlfAndAMissingLastNewline) {
  TempDir dir;
  write_file(dir / "v.txt", "<pad>\r\n<unk>\r\nword\r\nlast");
  EXPECT_THAT(Vocabulary::load(dir / "v.txt").tokens(),
              ElementsAre("<pad>", "<unk>", "word", "last"));
}

TEST(Vocabulary, SaveRejectsALineBreakAndKeepsTheOldFile) {
  TempDir dir;
  const fs::path path = dir / "vocab.txt";
  Vocabulary().save(path);
  const Vocabulary vocab = Vocabulary::build({{"ok", "two\nlines"}});
  EXPECT_THAT([&] { vocab.save(path); },
              ThrowsMessage<ValueError>(HasSubstr("Vocabulary::save: token 3 holds a line break")));
  EXPECT_EQ(read_file(path), "<pad>\n<unk>\n");
  EXPECT_THAT(dir.files(), ElementsAre("vocab.txt"));
}

TEST(Vocabulary, SaveToAMissingDirectoryIsAnIOError) {
  TempDir dir;
  EXPECT_THAT([&] { Vocabulary().save(dir / "no" / "vocab.txt"); },
              ThrowsMessage<IOError>(HasSubstr("vocab.txt")));
}

TEST(Vocabulary, LoadErrorsNameFileAndLine) {
  TempDir dir;
  const fs::path path = dir / "v.txt";
  const std::string f = path.string();

  EXPECT_THAT([&] { Vocabulary::load(dir / "missing.txt"); },
              ThrowsMessage<IOError>("cannot open '" + (dir / "missing.txt").string() +
                                     "': No such file or directory"));

  write_file(path, "");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":1: expected '<pad>', found end of file"));

  write_file(path, "<unk>\n<pad>\n");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":1: expected '<pad>', found '<unk>'"));

  write_file(path, "<pad>\n");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":2: expected '<unk>', found end of file"));

  write_file(path, "<pad>\nunk\na\n");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":2: expected '<unk>', found 'unk'"));

  write_file(path, "<pad>\n<unk>\nx\ny\nx\n");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":5: duplicate token 'x' (also on line 3)"));

  write_file(path, "<pad>\n<unk>\nx\n<unk>\n");
  EXPECT_THAT([&] { Vocabulary::load(path); },
              ThrowsMessage<ParseError>(f + ":4: duplicate token '<unk>' (also on line 2)"));
}

// ---- LabelEncoder ----

TEST(LabelEncoder, FitSortsTheDistinctLabelsByBytes) {
  const LabelEncoder encoder = LabelEncoder::fit({"pos", "neg", "neutral", "neg", "Pos", "pos"});
  EXPECT_THAT(encoder.classes(), ElementsAre("Pos", "neg", "neutral", "pos"));
  EXPECT_EQ(encoder.size(), 4);
  EXPECT_EQ(encoder.encode("neg"), 1);
  EXPECT_EQ(encoder.encode("pos"), 3);
  EXPECT_EQ(encoder.decode(2), "neutral");
  EXPECT_EQ(encoder.find("Pos"), 0);
  EXPECT_EQ(encoder.find("POS"), std::nullopt);
  EXPECT_THAT(encoder.indices_to_labels({3, 0, 3}), ElementsAre("pos", "Pos", "pos"));
  // The same label set in another order gives the same indices.
  EXPECT_EQ(LabelEncoder::fit({"neutral", "Pos", "pos", "neg"}).classes(), encoder.classes());
}

TEST(LabelEncoder, GivenOrderIsKept) {
  const LabelEncoder encoder({"z", "a", "m"});
  EXPECT_THAT(encoder.classes(), ElementsAre("z", "a", "m"));
  EXPECT_EQ(encoder.encode("a"), 1);
  EXPECT_EQ(LabelEncoder().size(), 0);
}

TEST(LabelEncoder, Errors) {
  EXPECT_THAT([] { LabelEncoder::fit({}); },
              ThrowsMessage<ValueError>("LabelEncoder::fit: no labels"));
  EXPECT_THAT([] { LabelEncoder({"a", "b", "a"}); },
              ThrowsMessage<ValueError>("LabelEncoder: duplicate label 'a'"));
  const LabelEncoder encoder = LabelEncoder::fit({"b", "a", "c"});
  EXPECT_THAT([&] { encoder.encode("x"); },
              ThrowsMessage<ValueError>("unknown label 'x' (known: a, b, c)"));
  EXPECT_THAT([&] { encoder.decode(3); },
              ThrowsMessage<IndexError>("LabelEncoder: index 3 out of range for size 3"));
  EXPECT_THAT([&] { encoder.indices_to_labels({0, -2}); },
              ThrowsMessage<IndexError>("LabelEncoder: index -2 out of range for size 3"));
}

TEST(LabelEncoder, UnknownLabelListsAtMostTen) {
  std::vector<std::string> labels;
  for (int i = 0; i < 12; ++i) labels.push_back("c" + std::to_string(i + 10));
  const LabelEncoder encoder = LabelEncoder::fit(labels);
  EXPECT_THAT([&] { encoder.encode("nope"); },
              ThrowsMessage<ValueError>("unknown label 'nope' (known: c10, c11, c12, c13, c14, "
                                        "c15, c16, c17, c18, c19 ... and 2 more)"));
}

TEST(LabelEncoder, SaveLoadRoundTrip) {
  TempDir dir;
  const fs::path path = dir / "labels.txt";
  const LabelEncoder encoder({"spam", "", "ham", "äöü"});
  encoder.save(path);
  EXPECT_EQ(read_file(path), "spam\n\nham\näöü\n");
  EXPECT_THAT(dir.files(), ElementsAre("labels.txt"));
  const LabelEncoder loaded = LabelEncoder::load(path);
  EXPECT_EQ(loaded.classes(), encoder.classes());
  EXPECT_EQ(loaded.encode("ham"), 2);
  EXPECT_EQ(loaded.encode(""), 1);
}

TEST(LabelEncoder, SaveAndLoadErrors) {
  TempDir dir;
  const fs::path path = dir / "labels.txt";
  const std::string f = path.string();
  EXPECT_THAT([&] { LabelEncoder({"a", "b\nc"}).save(path); },
              ThrowsMessage<ValueError>(HasSubstr("LabelEncoder::save: label 1 holds a line break")));
  EXPECT_THAT([&] { LabelEncoder({"a\r"}).save(path); },
              ThrowsMessage<ValueError>(HasSubstr("label 0 holds a line break")));
  EXPECT_THAT([&] { LabelEncoder().save(path); },
              ThrowsMessage<ValueError>(HasSubstr("LabelEncoder::save: no labels")));
  EXPECT_FALSE(fs::exists(path));

  EXPECT_THAT([&] { LabelEncoder::load(path); },
              ThrowsMessage<IOError>("cannot open '" + f + "': No such file or directory"));
  write_file(path, "");
  EXPECT_THAT([&] { LabelEncoder::load(path); },
              ThrowsMessage<ParseError>(f + ": empty file, expected one label per line"));
  write_file(path, "a\r\nb\r\na\r\n");
  EXPECT_THAT([&] { LabelEncoder::load(path); },
              ThrowsMessage<ParseError>(f + ":3: duplicate label 'a' (also on line 1)"));
}

}  // namespace
}  // namespace ignis::data
