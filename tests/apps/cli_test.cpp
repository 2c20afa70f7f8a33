// Tests of the ignis program, run as a user runs it (std::system on tiny CSVs in a temporary
// directory): per-epoch lines, the predictions file, predict reproducing train, --help, and
// every bad input exiting 2 with one line on stderr. Not tests of the libraries it uses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tensor/backend.h"

#ifndef IGNIS_CLI_PATH
#error "IGNIS_CLI_PATH must name the built ignis program (set by tests/CMakeLists.txt)"
#endif

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Single quotes for the shell.
std::string quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

// Three tiny classes, each with its own words, so that a model separates them in a few epochs.
std::string labelled_rows(int per_class, int first_id) {
  const char* words[3][4] = {{"apple", "banana", "cherry", "grape"},
                             {"hammer", "wrench", "drill", "saw"},
                             {"river", "mountain", "valley", "lake"}};
  const char* labels[3] = {"fruit", "tool", "place"};
  std::string text;
  int id = first_id;
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < 3; ++c) {
      text += "r" + std::to_string(id++) + ",\"" + words[c][i % 4] + " and " + words[c][(i + 1) % 4] +
              ", the " + words[c][(i + 2) % 4] + "\"," + labels[c] + "\n";
    }
  }
  return text;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("ignis_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    write_file(path("train.csv"), "id,text,label\n" + labelled_rows(10, 0));
    write_file(path("valid.csv"), "id,text,label\n" + labelled_rows(3, 100));
    write_file(path("test.csv"),
               "id,text\n"
               "t1,apple and banana\n"
               "t2,\"a drill, a saw\"\n"
               "t3,lake valley\n"
               "t4,nothing known here\n");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  RunResult run(const std::vector<std::string>& args) const {
    std::string command = quoted(IGNIS_CLI_PATH);
    for (const std::string& arg : args) command += " " + quoted(arg);
    command += " >" + quoted(path("stdout.txt")) + " 2>" + quoted(path("stderr.txt")) + " </dev/null";
    const int raw = std::system(command.c_str());
    RunResult result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_file(path("stdout.txt"));
    result.err = read_file(path("stderr.txt"));
    return result;
  }

  // The flags of a quick training run on the tiny CSVs; `flags` replaces or adds flags
  // (an empty value: a bare switch such as --bigrams).
  std::vector<std::string> train_args(
      const std::vector<std::pair<std::string, std::string>>& flags = {}) const {
    std::vector<std::pair<std::string, std::string>> all = {
        {"--train", path("train.csv")}, {"--valid", path("valid.csv")},
        {"--test", path("test.csv")},   {"--out", path("submit.csv")},
        {"--epochs", "2"},              {"--batch-size", "4"},
        {"--lr", "0.05"},               {"--embed-dim", "8"},
        {"--threads", "1"}};
    for (const auto& flag : flags) {
      auto same = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f.first == flag.first; });
      if (same != all.end()) {
        same->second = flag.second;
      } else {
        all.push_back(flag);
      }
    }
    std::vector<std::string> args = {"train"};
    for (const auto& [name, value] : all) {
      args.push_back(name);
      if (!value.empty()) args.push_back(value);
    }
    return args;
  }

  // Runs args with an existing submit.csv: exit status 2, exactly one line on stderr holding
  // every expected piece, and submit.csv left untouched.
  void expect_failure(const std::vector<std::string>& args,
                      const std::vector<std::string>& expected) const {
    write_file(path("submit.csv"), "id,label\nkeep,me\n");
    const RunResult r = run(args);
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    const std::vector<std::string> err_lines = lines_of(r.err);
    EXPECT_EQ(err_lines.size(), 1u) << r.err;
    for (const std::string& piece : expected) EXPECT_THAT(r.err, HasSubstr(piece));
    EXPECT_EQ(read_file(path("submit.csv")), "id,label\nkeep,me\n");
    for (const auto& entry : fs::directory_iterator(dir_)) {
      EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".tmp"))) << "left behind";
    }
  }

  fs::path dir_;
};

const std::regex kTrainLine(R"(\[\d{2,}\] TRAIN  Accuracy: \d+\.\d{2}  Loss: \d+\.\d{2})");
const std::regex kValidLine(
    R"(\[\d{2,}\] VALID  Accuracy: \d+\.\d{2}  Loss: \d+\.\d{2}  Balanced accuracy: \d+\.\d{2})");

TEST_F(CliTest, HelpExitsZeroOnEveryCommand) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"train", "--help"}, {"predict", "--help"}}) {
    const RunResult r = run(args);
    EXPECT_EQ(r.status, 0) << args[0] << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("usage: ignis"));
    EXPECT_EQ(r.err, "");
  }
  EXPECT_THAT(run({"train", "--help"}).out, HasSubstr("--valid-split"));
  EXPECT_THAT(run({"predict", "--help"}).out, HasSubstr("--load DIR"));
}

TEST_F(CliTest, UnknownCommandExitsTwo) {
  expect_failure({"frobnicate"}, {"unknown command 'frobnicate'"});
  expect_failure({}, {"missing command"});
}

TEST_F(CliTest, TrainPrintsEpochLinesAndWritesPredictions) {
  const RunResult r = run(train_args());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  int train_lines = 0, valid_lines = 0;
  for (const std::string& line : lines_of(r.out)) {
    if (line.rfind("[", 0) != 0) continue;
    if (line.find("TRAIN") != std::string::npos) {
      EXPECT_TRUE(std::regex_match(line, kTrainLine)) << line;
      ++train_lines;
    } else {
      EXPECT_TRUE(std::regex_match(line, kValidLine)) << line;
      ++valid_lines;
    }
  }
  EXPECT_EQ(train_lines, 2) << r.out;
  EXPECT_EQ(valid_lines, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[01] TRAIN  Accuracy: "));
  EXPECT_THAT(r.out, HasSubstr("[02] VALID  Accuracy: "));

  const std::vector<std::string> rows = lines_of(read_file(path("submit.csv")));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], "id,label");
  const std::regex row(R"((t1|t2|t3|t4),(fruit|tool|place))");
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_TRUE(std::regex_match(rows[i], row)) << rows[i];
    EXPECT_EQ(rows[i].substr(0, 2), "t" + std::to_string(i));
  }
  // Two epochs on separable words: the test rows made of known words come out right.
  EXPECT_EQ(rows[1], "t1,fruit");
  EXPECT_EQ(rows[2], "t2,tool");
  EXPECT_EQ(rows[3], "t3,place");
}

TEST_F(CliTest, SameSeedSameBytes) {
  ASSERT_EQ(run(train_args({{"--out", path("a.csv")}, {"--seed", "7"}, {"--model", "mlp"}})).status, 0);
  ASSERT_EQ(run(train_args({{"--out", path("b.csv")}, {"--seed", "7"}, {"--model", "mlp"},
                            {"--threads", "2"}})).status, 0);
  EXPECT_EQ(read_file(path("a.csv")), read_file(path("b.csv")));
}

TEST_F(CliTest, PredictReproducesTrainingPredictionsByteForByte) {
  for (const char* model : {"bag", "mlp"}) {
    SCOPED_TRACE(model);
    const RunResult trained =
        run(train_args({{"--model", model}, {"--bigrams", ""},
                        {"--save", path(std::string("model_") + model)},
                        {"--out", path("train_submit.csv")}}));
    ASSERT_EQ(trained.status, 0) << trained.out << trained.err;
    for (const char* file : {"model.safetensors", "vocab.txt", "labels.txt", "config.json"}) {
      EXPECT_TRUE(fs::exists(dir_ / (std::string("model_") + model) / file)) << file;
    }
    const RunResult predicted = run({"predict", "--load", path(std::string("model_") + model),
                                     "--test", path("test.csv"), "--out", path("predict_submit.csv")});
    ASSERT_EQ(predicted.status, 0) << predicted.out << predicted.err;
    const std::string expected = read_file(path("train_submit.csv"));
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(read_file(path("predict_submit.csv")), expected);
  }
}

TEST_F(CliTest, TestFileWithoutIdColumnUsesRowIndices) {
  write_file(path("noid.csv"), "text\napple\nsaw\n");
  const RunResult r = run(train_args({{"--test", path("noid.csv")}}));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> rows = lines_of(read_file(path("submit.csv")));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].substr(0, 2), "0,");
  EXPECT_EQ(rows[2].substr(0, 2), "1,");
}

TEST_F(CliTest, LogCsvHasOneRowPerEpoch) {
  ASSERT_EQ(run(train_args({{"--log-csv", path("log.csv")}})).status, 0);
  const std::vector<std::string> rows = lines_of(read_file(path("log.csv")));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0],
            "epoch,train_seconds,train_accuracy,train_loss,valid_accuracy,valid_loss,"
            "valid_balanced_accuracy");
  EXPECT_EQ(rows[1].substr(0, 2), "1,");
  EXPECT_EQ(rows[2].substr(0, 2), "2,");
  EXPECT_EQ(std::count(rows[2].begin(), rows[2].end(), ','), 6);
}

TEST_F(CliTest, ValidSplitWithoutValidFile) {
  const RunResult r = run({"train", "--train", path("train.csv"), "--valid-split", "0.2",
                           "--epochs", "1", "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("24 train rows, 6 valid rows"));
  EXPECT_THAT(r.out, HasSubstr("[01] VALID  Accuracy: "));
}

TEST_F(CliTest, DefaultDatasetSliceTrainsOneEpoch) {
  const fs::path data = fs::path(IGNIS_DATASETS_DIR) / "wordnet";
  if (!fs::exists(data / "train.csv")) GTEST_SKIP() << "no default dataset";
  // The first rows of the default files: the same format, a fraction of the time.
  const auto head = [&](const std::string& name, size_t lines) {
    std::ifstream in(data / name);
    std::string text, line;
    for (size_t i = 0; i < lines && std::getline(in, line); ++i) text += line + "\n";
    write_file(path("slice_" + name), text);
  };
  head("train.csv", 3000);
  head("valid.csv", 500);
  head("test.csv", 200);
  const RunResult r = run({"train", "--train", path("slice_train.csv"), "--valid",
                           path("slice_valid.csv"), "--test", path("slice_test.csv"), "--out",
                           path("submit.csv"), "--epochs", "1"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("[01] VALID  Accuracy: "));
  const std::vector<std::string> rows = lines_of(read_file(path("submit.csv")));
  ASSERT_EQ(rows.size(), 200u);
  EXPECT_EQ(rows[0], "id,label");
  EXPECT_TRUE(std::regex_match(rows[1], std::regex(R"([nv]\d{8},(noun|verb)\.[A-Za-z]+)")))
      << rows[1];
}

// ---- bad input: exit 2, one line naming the cause, submit.csv untouched ----

TEST_F(CliTest, MissingFile) {
  expect_failure(train_args({{"--train", path("nope.csv")}}), {"nope.csv", "cannot open"});
  expect_failure(train_args({{"--test", path("nope.csv")}}), {"nope.csv", "cannot open"});
}

TEST_F(CliTest, MissingColumn) {
  write_file(path("train.csv"), "id,text,category\nr1,apple,fruit\n");
  expect_failure(train_args(), {"train.csv:1:", "no column 'label'"});
  expect_failure(train_args({{"--label-column", "kind"}}), {"no column 'kind'"});
}

TEST_F(CliTest, UnterminatedQuote) {
  write_file(path("valid.csv"), "id,text,label\nr1,apple,fruit\nr2,\"hammer and saw,tool\n");
  expect_failure(train_args(), {"valid.csv:3:", "unterminated"});
}

TEST_F(CliTest, EmptyFile) {
  write_file(path("train.csv"), "");
  expect_failure(train_args(), {"train.csv", "empty file"});
}

TEST_F(CliTest, HeaderOnly) {
  write_file(path("test.csv"), "id,text\n");
  expect_failure(train_args(), {"test.csv", "no data rows"});
}

TEST_F(CliTest, LabelInValidNeverSeenInTraining) {
  write_file(path("valid.csv"), "id,text,label\nr1,apple,fruit\nr2,tulip,flower\n");
  expect_failure(train_args(), {"valid.csv:3:", "unknown label 'flower'"});
}

TEST_F(CliTest, InvalidUtf8) {
  write_file(path("train.csv"), "id,text,label\nr1,apple,fruit\nr2,bad \xC3\x28 byte,tool\n");
  expect_failure(train_args(), {"train.csv:3", "invalid UTF-8"});
}

TEST_F(CliTest, CudaWithoutGpu) {
  if (ignis::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  expect_failure(train_args({{"--device", "cuda"}}), {"--device cuda: no CUDA device available"});
  if (!ignis::cuda::is_compiled()) {
    expect_failure(train_args({{"--device", "cuda"}}), {"(ignis built without CUDA)"});
  }
  expect_failure(train_args({{"--device", "tpu"}}), {"--device: expected cpu or cuda"});
}

TEST_F(CliTest, BadFlags) {
  expect_failure(train_args({{"--lr", "fast"}}), {"--lr: expected a number, got 'fast'"});
  expect_failure({"train", "--lr", "1e-3", "--lr", "1e-2"}, {"--lr: given twice"});
  expect_failure({"train", "--lr", "fast"}, {"--lr: expected a number, got 'fast'"});
  expect_failure({"train", "--epochs", "2.5"}, {"--epochs: expected an integer, got '2.5'"});
  expect_failure({"train", "--epochs", "0"}, {"--epochs: must be >= 1"});
  expect_failure({"train", "--bogus", "1"}, {"unknown flag '--bogus'"});
  expect_failure({"train", "--epochs"}, {"--epochs: missing value"});
  expect_failure({"train", "--model", "cnn"}, {"--model: expected bag or mlp, got 'cnn'"});
  expect_failure({"train", "--valid-split", "1.5"}, {"--valid-split: must be in (0, 1)"});
  expect_failure({"predict", "--test", path("test.csv")}, {"--load: required"});
  expect_failure(train_args({{"--out", path("nowhere/submit.csv")}}), {"--out: no directory"});
  expect_failure({"predict", "--load", path("none"), "--test", path("test.csv")},
                 {"none", "not a model directory"});
}

TEST_F(CliTest, NanLossStopsWithTheEpochAndIteration) {
  expect_failure(train_args({{"--lr", "1e30"}}), {"loss is", "epoch 1, iteration"});
}

}  // namespace
