// Tests of data/dataset.h: read_text_csv (columns, ids, lines, errors), TextClassificationDataset
// (indices, unknown labels, subsets), shuffled_indices and the seeded splits.
#include "data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Writes `content` to a fresh file in the test temporary directory, removed on destruction.
class TempCsv {
 public:
  TempCsv(const std::string& name, const std::string& content)
      : path_(std::filesystem::path(::testing::TempDir()) / ("ignis_dataset_" + name)) {
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  ~TempCsv() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string name() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ReadTextCsv, ReadsIdsTokensLabelsAndLines) {
  TempCsv csv("full.csv",
              "id,text,label\n"
              "a7,Hello World,pos\n"
              "b2,\"multi\nline, text\",neg\n"
              "\n"
              "c3,,pos\n");
  const TextTable table = read_text_csv(csv.path(), Tokenizer());
  EXPECT_EQ(table.name, csv.name());
  EXPECT_TRUE(table.has_labels);
  EXPECT_THAT(table.ids, ElementsAre("a7", "b2", "c3"));
  ASSERT_EQ(table.tokens.size(), 3u);
  EXPECT_THAT(table.tokens[0], ElementsAre("hello", "world"));
  EXPECT_THAT(table.tokens[1], ElementsAre("multi", "line", "text"));
  EXPECT_TRUE(table.tokens[2].empty());
  EXPECT_THAT(table.labels, ElementsAre("pos", "neg", "pos"));
  EXPECT_THAT(table.lines, ElementsAre(2, 3, 6));
}

TEST(ReadTextCsv, RowIndexIsTheIdWhenThereIsNoIdColumn) {
  TempCsv csv("noid.csv", "label,text\nx,one\ny,two\nx,three\n");
  const TextTable table = read_text_csv(csv.path(), Tokenizer());
  EXPECT_THAT(table.ids, ElementsAre("0", "1", "2"));
  EXPECT_THAT(table.labels, ElementsAre("x", "y", "x"));
}

TEST(ReadTextCsv, CustomColumnNames) {
  TempCsv csv("custom.csv", "key,body,y\nk1,Some Text,1\n");
  const TextTable table =
      read_text_csv(csv.path(), Tokenizer({.lowercase = false}),
                    TextColumns{.text = "body", .label = "y", .id = "key"});
  EXPECT_THAT(table.ids, ElementsAre("k1"));
  EXPECT_THAT(table.tokens[0], ElementsAre("Some", "Text"));
  EXPECT_THAT(table.labels, ElementsAre("1"));
}

TEST(ReadTextCsv, LabelColumnOptionalForTestFiles) {
  TempCsv csv("test.csv", "id,text\n1,a b\n2,c\n");
  const TextTable table = read_text_csv(csv.path(), Tokenizer(), {}, /*require_label=*/false);
  EXPECT_FALSE(table.has_labels);
  EXPECT_TRUE(table.labels.empty());
  EXPECT_THAT(table.ids, ElementsAre("1", "2"));
}

TEST(ReadTextCsv, Errors) {
  TempCsv no_text("notext.csv", "id,label\n1,x\n");
  EXPECT_THAT([&] { read_text_csv(no_text.path(), Tokenizer()); },
              ThrowsMessage<ValueError>(HasSubstr(no_text.name() + ":1: no column 'text'")));
  TempCsv no_label("nolabel.csv", "id,text\n1,x\n");
  EXPECT_THAT([&] { read_text_csv(no_label.path(), Tokenizer()); },
              ThrowsMessage<ValueError>(HasSubstr(no_label.name() + ":1: no column 'label'")));
  TempCsv header_only("header.csv", "id,text,label\n");
  EXPECT_THAT([&] { read_text_csv(header_only.path(), Tokenizer()); },
              ThrowsMessage<ParseError>(HasSubstr(header_only.name() + ": no data rows")));
  TempCsv empty("empty.csv", "");
  EXPECT_THAT([&] { read_text_csv(empty.path(), Tokenizer()); },
              ThrowsMessage<ParseError>(HasSubstr("empty file")));
  TempCsv bad_utf8("utf8.csv", "text,label\nok,a\nbad \xff here,b\n");
  EXPECT_THAT([&] { read_text_csv(bad_utf8.path(), Tokenizer()); },
              ThrowsMessage<ParseError>(HasSubstr(bad_utf8.name() + ":3: invalid UTF-8")));
  const std::filesystem::path missing =
      std::filesystem::path(::testing::TempDir()) / "ignis_dataset_missing.csv";
  EXPECT_THAT([&] { read_text_csv(missing, Tokenizer()); },
              ThrowsMessage<IOError>(HasSubstr("cannot open")));
}

// A table built in memory: rows "a b", "b c c", "", "d"; labels as given.
TextTable small_table(std::vector<std::string> labels) {
  TextTable table;
  table.name = "mem.csv";
  table.ids = {"0", "1", "2", "3"};
  table.tokens = {{"a", "b"}, {"b", "c", "c"}, {}, {"d"}};
  table.lines = {2, 3, 4, 7};
  table.has_labels = !labels.empty();
  table.labels = std::move(labels);
  return table;
}

TEST(TextClassificationDataset, MapsTokensAndLabels) {
  const TextTable table = small_table({"neg", "pos", "pos", "neg"});
  const Vocabulary vocab = Vocabulary::build({{"c", "c", "b"}, {"a"}});  // c=2, a=3, b=4
  const LabelEncoder labels = LabelEncoder::fit(table.labels);
  const TextClassificationDataset dataset(table, vocab, &labels);
  ASSERT_EQ(dataset.size(), 4);
  EXPECT_TRUE(dataset.has_labels());
  EXPECT_THAT(dataset.tokens(0), ElementsAre(3, 4));
  EXPECT_THAT(dataset.tokens(1), ElementsAre(4, 2, 2));
  EXPECT_TRUE(dataset.tokens(2).empty());
  EXPECT_THAT(dataset.tokens(3), ElementsAre(Vocabulary::kUnkIndex));
  EXPECT_THAT(dataset.labels(), ElementsAre(0, 1, 1, 0));
  EXPECT_EQ(dataset.label(1), 1);
}

TEST(TextClassificationDataset, UnlabelledWithoutEncoderOrLabels) {
  const Vocabulary vocab = Vocabulary::build({{"a"}});
  const TextTable labelled = small_table({"x", "y", "x", "y"});
  const TextClassificationDataset no_encoder(labelled, vocab, nullptr);
  EXPECT_FALSE(no_encoder.has_labels());
  EXPECT_THAT(no_encoder.labels(), ElementsAre(-1, -1, -1, -1));
  const LabelEncoder encoder = LabelEncoder::fit({"x", "y"});
  const TextClassificationDataset no_labels(small_table({}), vocab, &encoder);
  EXPECT_FALSE(no_labels.has_labels());
  EXPECT_EQ(no_labels.label(3), -1);
}

TEST(TextClassificationDataset, UnknownLabelNamesFileAndLine) {
  const TextTable table = small_table({"neg", "pos", "pos", "meh"});
  const LabelEncoder labels = LabelEncoder::fit({"neg", "pos"});
  EXPECT_THAT([&] { TextClassificationDataset(table, Vocabulary(), &labels); },
              ThrowsMessage<ValueError>(
                  HasSubstr("mem.csv:7: unknown label 'meh' (not in the training data)")));
}

TEST(TextClassificationDataset, UnknownLabelInAFileNamesItsLine) {
  TempCsv train("train.csv", "text,label\na,pos\nb,neg\n");
  TempCsv valid("valid.csv", "text,label\n\"two\nlines\",pos\nc,zzz\n");
  const Tokenizer tokenizer;
  const TextTable train_table = read_text_csv(train.path(), tokenizer);
  const LabelEncoder labels = LabelEncoder::fit(train_table.labels);
  const Vocabulary vocab = Vocabulary::build(train_table.tokens);
  const TextTable valid_table = read_text_csv(valid.path(), tokenizer);
  EXPECT_THAT([&] { TextClassificationDataset(valid_table, vocab, &labels); },
              ThrowsMessage<ValueError>(HasSubstr(
                  valid.name() + ":4: unknown label 'zzz' (not in the training data)")));
}

TEST(TextClassificationDataset, InconsistentTableIsAValueError) {
  TextTable table = small_table({"a", "b", "a", "b"});
  table.labels.pop_back();
  const LabelEncoder labels = LabelEncoder::fit({"a", "b"});
  EXPECT_THAT([&] { TextClassificationDataset(table, Vocabulary(), &labels); },
              ThrowsMessage<ValueError>(HasSubstr("4 token rows, 4 lines and 3 labels")));
}

TEST(TextClassificationDataset, SubsetAndRowChecks) {
  const TextTable table = small_table({"x", "y", "z", "x"});
  const Vocabulary vocab = Vocabulary::build(table.tokens);
  const LabelEncoder labels = LabelEncoder::fit(table.labels);
  const TextClassificationDataset dataset(table, vocab, &labels);
  const TextClassificationDataset sub = dataset.subset({3, 1, 1});
  ASSERT_EQ(sub.size(), 3);
  EXPECT_EQ(sub.tokens(0), dataset.tokens(3));
  EXPECT_EQ(sub.tokens(2), dataset.tokens(1));
  EXPECT_THAT(sub.labels(), ElementsAre(0, 1, 1));
  EXPECT_TRUE(sub.has_labels());
  EXPECT_THAT([&] { dataset.subset({0, 4}); },
              ThrowsMessage<IndexError>(
                  HasSubstr("TextClassificationDataset::subset: row 4 out of range for size 4")));
  EXPECT_THAT([&] { dataset.tokens(-1); }, ThrowsMessage<IndexError>(HasSubstr("row -1")));
}

TEST(ShuffledIndices, IsAPermutationAndAPureFunctionOfSeedAndStream) {
  const std::vector<int64_t> a = shuffled_indices(1000, 7, 3);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(a, identity);
  EXPECT_EQ(shuffled_indices(1000, 7, 3), a);
  EXPECT_NE(shuffled_indices(1000, 7, 4), a);
  EXPECT_NE(shuffled_indices(1000, 8, 3), a);
  EXPECT_TRUE(shuffled_indices(0, 1, 2).empty());
  EXPECT_THAT(shuffled_indices(1, 1, 2), ElementsAre(0));
  EXPECT_THROW(shuffled_indices(-1, 0, 0), ValueError);
}

// Pinned values, from an independent implementation of the documented formula: the
// permutation is part of the reproducibility contract (a resumed run, the same split on another
// machine); a change here changes every shuffled run.
TEST(ShuffledIndices, PinnedValues) {
  EXPECT_THAT(shuffled_indices(8, 0, 0), ElementsAre(7, 6, 0, 5, 4, 2, 1, 3));
  EXPECT_THAT(shuffled_indices(10, 12345, kSplitStream),
              ElementsAre(1, 8, 5, 2, 0, 6, 7, 4, 3, 9));
}

TEST(ShuffledIndices, AllPermutationsOfFourAreAboutEquallyLikely) {
  std::map<std::vector<int64_t>, int> counts;
  const int kStreams = 4800;
  for (int stream = 0; stream < kStreams; ++stream) ++counts[shuffled_indices(4, 11, stream)];
  ASSERT_EQ(counts.size(), 24u);
  for (const auto& [permutation, count] : counts) {  // expected 200 each, sd ~14
    EXPECT_GT(count, 140);
    EXPECT_LT(count, 260);
  }
}

void expect_partition(const std::vector<int64_t>& first, const std::vector<int64_t>& second,
                      int64_t n) {
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end()));
  EXPECT_TRUE(std::is_sorted(second.begin(), second.end()));
  std::vector<int64_t> all = first;
  all.insert(all.end(), second.begin(), second.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> identity(static_cast<size_t>(n));
  std::iota(identity.begin(), identity.end(), int64_t{0});
  EXPECT_EQ(all, identity);
}

TEST(RandomSplit, SizesPartitionAndDeterminism) {
  const auto [first, second] = random_split(1000, 0.1, 5);
  EXPECT_EQ(second.size(), 100u);
  EXPECT_EQ(first.size(), 900u);
  expect_partition(first, second, 1000);
  EXPECT_EQ(random_split(1000, 0.1, 5).second, second);
  EXPECT_NE(random_split(1000, 0.1, 6).second, second);
  EXPECT_EQ(random_split(10, 0.25, 0).second.size(), 3u);  // round(2.5) = 3
  EXPECT_EQ(random_split(10, 0.04, 0).second.size(), 0u);
  EXPECT_TRUE(random_split(0, 0.5, 0).first.empty());
}

TEST(RandomSplit, FractionOutsideTheOpenIntervalIsAValueError) {
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    EXPECT_THAT([&] { random_split(10, bad, 0); },
                ThrowsMessage<ValueError>(
                    HasSubstr("random_split: second_fraction must be in (0, 1)")));
    EXPECT_THAT([&] { stratified_split({0, 1}, bad, 0); },
                ThrowsMessage<ValueError>(HasSubstr("stratified_split: second_fraction")));
  }
  EXPECT_THAT([&] { random_split(10, 1.5, 0); }, ThrowsMessage<ValueError>(HasSubstr("got 1.5")));
}

TEST(StratifiedSplit, ProportionsPerClass) {
  // Class 0: 100 rows, class 1: 30, class 2: 1, class 7: 4, interleaved.
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(0);
  for (int i = 0; i < 30; ++i) labels.insert(labels.begin() + 3 * i + 1, 1);
  labels.insert(labels.begin() + 50, 2);
  for (int i = 0; i < 4; ++i) labels.push_back(7);
  const int64_t n = static_cast<int64_t>(labels.size());

  const auto [first, second] = stratified_split(labels, 0.2, 42);
  expect_partition(first, second, n);
  std::map<int64_t, int64_t> second_counts, first_counts;
  for (int64_t row : second) ++second_counts[labels[row]];
  for (int64_t row : first) ++first_counts[labels[row]];
  EXPECT_EQ(second_counts[0], 20);
  EXPECT_EQ(second_counts[1], 6);
  EXPECT_EQ(second_counts[2], 0);  // the single row stays in the first part
  EXPECT_EQ(second_counts[7], 1);  // round(0.8)
  EXPECT_EQ(first_counts[2], 1);
  EXPECT_EQ(stratified_split(labels, 0.2, 42).second, second);
  EXPECT_NE(stratified_split(labels, 0.2, 43).second, second);
}

TEST(StratifiedSplit, EveryClassKeepsARowInTheFirstPart) {
  const std::vector<int64_t> labels = {3, 5, 5, 3, 9};
  const auto [first, second] = stratified_split(labels, 0.9, 1);
  std::set<int64_t> first_classes;
  for (int64_t row : first) first_classes.insert(labels[row]);
  EXPECT_EQ(first_classes, (std::set<int64_t>{3, 5, 9}));
  EXPECT_EQ(second.size(), 2u);  // one of each class with two rows
}

}  // namespace
}  // namespace ignis::data
