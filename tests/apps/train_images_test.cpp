// Tests of `ignis train-images`, run as a user runs it (std::system on tiny IDX files written
// to a temporary directory): per-epoch lines, the predictions file, the metrics log, and bad
// input exiting 2 with one line on stderr. Not tests of the IDX reader (tests/data/idx_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/factory.h"
#include "tensor/io/safetensors.h"

#ifndef IGNIS_CLI_PATH
#error "IGNIS_CLI_PATH must name the built ignis program (set by tests/CMakeLists.txt)"
#endif

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kSide = 12;       // images are kSide x kSide
constexpr int kClasses = 10;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string shell_quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// An IDX file of uint8 values: magic 0x00000803 (or 0x00000801), big-endian sizes, data.
void write_idx(const fs::path& path, const std::vector<uint32_t>& sizes,
               const std::vector<uint8_t>& values) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(sizes.size())};
  for (uint32_t s : sizes) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((s >> shift) & 0xFF);
  }
  bytes.append(values.begin(), values.end());
  std::ofstream(path, std::ios::binary) << bytes;
}

// n images of class i % 10: a bright 3x3 block at a place that depends on the class, on a
// faint background that varies with i, so that the classes are easy to separate.
void write_split(const fs::path& dir, const std::string& prefix, int n) {
  std::vector<uint8_t> pixels, labels;
  for (int i = 0; i < n; ++i) {
    const int label = i % kClasses;
    const int top = (label / 5) * 6 + 1, left = (label % 5) * 2;
    for (int r = 0; r < kSide; ++r) {
      for (int c = 0; c < kSide; ++c) {
        const bool on = r >= top && r < top + 3 && c >= left && c < left + 3;
        pixels.push_back(static_cast<uint8_t>(on ? 255 : (i * 7 + r * 3 + c) % 40));
      }
    }
    labels.push_back(static_cast<uint8_t>(label));
  }
  const auto count = static_cast<uint32_t>(n);
  write_idx(dir / (prefix + "-images-idx3-ubyte"), {count, kSide, kSide}, pixels);
  write_idx(dir / (prefix + "-labels-idx1-ubyte"), {count}, labels);
}

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

class TrainImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("ignis_train_images_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_ / "data");
    write_split(dir_ / "data", "train", 200);
    write_split(dir_ / "data", "t10k", 50);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  RunResult run(const std::vector<std::string>& args) const {
    std::string command = shell_quoted(IGNIS_CLI_PATH) + " train-images";
    for (const std::string& arg : args) command += " " + shell_quoted(arg);
    command += " >" + shell_quoted(path("stdout.txt")) + " 2>" + shell_quoted(path("stderr.txt")) +
               " </dev/null";
    const int raw = std::system(command.c_str());
    return {.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1,
            .out = read_text(path("stdout.txt")),
            .err = read_text(path("stderr.txt"))};
  }

  // The flags of a quick run on the tiny files, then `extra`.
  std::vector<std::string> job(const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {"--data", path("data"), "--out", path("predictions.csv"),
                                     "--batch-size", "16", "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Exit status 2, exactly one line on stderr holding every expected piece, no predictions.
  void expect_failure(const std::vector<std::string>& args,
                      const std::vector<std::string>& expected) const {
    const RunResult r = run(args);
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("ignis: error: "));
    for (const std::string& piece : expected) EXPECT_THAT(r.err, HasSubstr(piece));
    EXPECT_FALSE(fs::exists(path("predictions.csv")));
  }

  fs::path dir_;
};

const std::regex kTrainLine(R"(\[(\d{2,})\] TRAIN  Accuracy: \d+\.\d{2}  Loss: \d+\.\d{2})");
const std::regex kValidLine(
    R"(\[(\d{2,})\] VALID  Accuracy: (\d+\.\d{2})  Loss: \d+\.\d{2}  Balanced accuracy: \d+\.\d{2})");

// The epoch numbers of the TRAIN and VALID lines of `out`, and the last VALID accuracy.
struct EpochLines {
  std::vector<int> train, valid;
  double last_valid_accuracy = -1.0;
};
EpochLines epoch_lines(const std::string& out) {
  EpochLines lines;
  for (const std::string& line : split_lines(out)) {
    std::smatch m;
    if (std::regex_match(line, m, kTrainLine)) lines.train.push_back(std::stoi(m[1]));
    if (std::regex_match(line, m, kValidLine)) {
      lines.valid.push_back(std::stoi(m[1]));
      lines.last_valid_accuracy = std::stod(m[2]);
    }
  }
  return lines;
}

TEST_F(TrainImagesTest, MlpOneEpochPrintsLinesAndWritesPredictions) {
  const RunResult r = run(job({"--epochs", "1"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  const EpochLines lines = epoch_lines(r.out);
  EXPECT_EQ(lines.train, std::vector<int>{1}) << r.out;
  EXPECT_EQ(lines.valid, std::vector<int>{1}) << r.out;

  const std::vector<std::string> rows = split_lines(read_text(path("predictions.csv")));
  ASSERT_EQ(rows.size(), 51u);
  EXPECT_EQ(rows[0], "id,label");
  const std::regex row(R"((\d+),(T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot))");
  for (size_t i = 1; i < rows.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(rows[i], m, row)) << rows[i];
    EXPECT_EQ(std::stoul(m[1]), i - 1);
  }
}

TEST_F(TrainImagesTest, MlpLearnsSeparableClasses) {
  const RunResult r = run(job({"--epochs", "8"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const EpochLines lines = epoch_lines(r.out);
  ASSERT_EQ(lines.valid.size(), 8u) << r.out;
  EXPECT_GE(lines.last_valid_accuracy, 0.9) << r.out;
}

TEST_F(TrainImagesTest, CnnWithLimitWritesOneLogRowPerEpoch) {
  const RunResult r = run(job({"--model", "cnn", "--epochs", "2", "--limit", "64", "--log-csv",
                               path("log.csv")}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("64 train images, 50 test images (12x12), model cnn"));
  const EpochLines lines = epoch_lines(r.out);
  EXPECT_EQ(lines.valid, (std::vector<int>{1, 2})) << r.out;
  const std::vector<std::string> log = split_lines(read_text(path("log.csv")));
  ASSERT_EQ(log.size(), 3u) << read_text(path("log.csv"));
  EXPECT_EQ(log[0],
            "epoch,train_accuracy,train_loss,train_seconds,valid_accuracy,valid_balanced_accuracy,"
            "valid_loss");
  EXPECT_THAT(log[2], StartsWith("2,"));
}

TEST_F(TrainImagesTest, SameSeedSamePredictions) {
  ASSERT_EQ(run(job({"--epochs", "1", "--seed", "3"})).status, 0);
  const std::string first = read_text(path("predictions.csv"));
  ASSERT_EQ(run(job({"--epochs", "1", "--seed", "3"})).status, 0);
  EXPECT_EQ(read_text(path("predictions.csv")), first);
}

// The mlp's state_dict for kSide x kSide images, every tensor zero except the last bias, which
// is 1 for class `favoured`: this model predicts `favoured` for every image.
ignis::NamedTensors constant_mlp(int64_t favoured, int64_t first_in = kSide * kSide) {
  ignis::Tensor last_bias = ignis::zeros({kClasses});
  last_bias.data_ptr<float>()[favoured] = 1.0f;
  return {{"1.weight", ignis::zeros({512, first_in})}, {"1.bias", ignis::zeros({512})},
          {"3.weight", ignis::zeros({256, 512})},      {"3.bias", ignis::zeros({256})},
          {"5.weight", ignis::zeros({kClasses, 256})}, {"5.bias", last_bias}};
}

TEST_F(TrainImagesTest, InitFromStartsFromTheFilesWeights) {
  ignis::save_safetensors(path("init.safetensors"), constant_mlp(3));
  const RunResult r = run(job({"--epochs", "1", "--lr", "0", "--init-from", path("init.safetensors")}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const std::vector<std::string> rows = split_lines(read_text(path("predictions.csv")));
  ASSERT_EQ(rows.size(), 51u);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i], std::to_string(i - 1) + ",Dress");
}

TEST_F(TrainImagesTest, InitFromAnotherShapeExitsTwo) {
  ignis::save_safetensors(path("init.safetensors"), constant_mlp(3, 100));
  expect_failure(job({"--epochs", "1", "--init-from", path("init.safetensors")}),
                 {"init.safetensors", "1.weight", "(512, 100)", "(512, 144)"});
}

TEST_F(TrainImagesTest, InitChoosesTheInitialWeights) {
  ASSERT_EQ(run(job({"--epochs", "1", "--lr", "0", "--init", "pytorch"})).status, 0);
  const std::string pytorch = read_text(path("predictions.csv"));
  ASSERT_EQ(run(job({"--epochs", "1", "--lr", "0", "--init", "he"})).status, 0);
  EXPECT_NE(read_text(path("predictions.csv")), pytorch);
  fs::remove(path("predictions.csv"));
  expect_failure(job({"--init", "xavier"}), {"--init", "'xavier'"});
}

// The train_loss column (the third) of the metrics log's last row after 2 epochs.
TEST_F(TrainImagesTest, LrScheduleChangesTheTraining) {
  const auto final_train_loss = [&](const std::string& schedule) {
    const RunResult r =
        run(job({"--epochs", "2", "--lr-schedule", schedule, "--log-csv", path("log.csv")}));
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    const std::vector<std::string> log = split_lines(read_text(path("log.csv")));
    std::vector<std::string> fields;
    std::istringstream row(log.empty() ? std::string() : log.back());
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    EXPECT_GE(fields.size(), 3u) << read_text(path("log.csv"));
    return fields.size() >= 3 ? std::stod(fields[2]) : -1.0;
  };
  const double cosine = final_train_loss("cosine");
  const double constant = final_train_loss("constant");
  EXPECT_GT(cosine, 0.0);
  EXPECT_GT(constant, 0.0);
  EXPECT_NE(cosine, constant);
  fs::remove(path("predictions.csv"));
  expect_failure(job({"--lr-schedule", "step"}), {"--lr-schedule", "'step'"});
}

TEST_F(TrainImagesTest, BadDataDirExitsTwoWithOneLine) {
  expect_failure({"--data", path("nowhere"), "--out", path("predictions.csv")},
                 {"nowhere", "train-images-idx3-ubyte"});
}

TEST_F(TrainImagesTest, BadFlagsExitTwoWithOneLine) {
  expect_failure({"--data", path("data"), "--model", "bogus"}, {"--model", "'bogus'"});
  expect_failure({"--model", "mlp"}, {"--data", "missing"});
  expect_failure({"--data", path("data"), "--epochs", "0"}, {"--epochs", "must be >= 1"});
  expect_failure({"--data", path("data"), "--frobnicate", "1"}, {"unknown flag '--frobnicate'"});
}

TEST_F(TrainImagesTest, LabelOutsideTheClassesExitsTwo) {
  write_idx(dir_ / "data" / "t10k-labels-idx1-ubyte", {50}, std::vector<uint8_t>(50, 12));
  expect_failure(job({"--epochs", "1"}), {"t10k", "label 12", "[0, 10)"});
}

TEST_F(TrainImagesTest, HelpNamesTheFlags) {
  const RunResult r = run({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("usage: ignis train-images"));
  EXPECT_THAT(r.out, HasSubstr("--limit"));
  EXPECT_THAT(r.out, Not(HasSubstr("--valid")));
}

}  // namespace
