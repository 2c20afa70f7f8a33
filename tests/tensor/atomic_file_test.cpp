// Tests of tensor/io/atomic_file.h: the target holds the old or the whole new content, and no
// temporary file survives a success or a failure.
#include "tensor/io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace ignis {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// A fresh, empty directory per test, removed afterwards.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("ignis_atomic_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesNewFile) {
  const fs::path target = dir_ / "out.bin";
  write_file_atomic(target, std::string("abc\0def", 7));
  EXPECT_EQ(read(target), std::string("abc\0def", 7));
  EXPECT_EQ(entries(), std::vector<std::string>{"out.bin"});
}

TEST_F(AtomicFileTest, ReplacesExistingFile) {
  const fs::path target = dir_ / "out.csv";
  write_file_atomic(target, "old content that is longer");
  write_file_atomic(target, "new");
  EXPECT_EQ(read(target), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(AtomicFileTest, TempFileIsNextToTarget) {
  const fs::path target = dir_ / "model.safetensors";
  AtomicFile file(target);
  EXPECT_EQ(file.temp_path().parent_path(), dir_);
  EXPECT_THAT(file.temp_path().filename().string(),
              HasSubstr("model.safetensors.tmp." + std::to_string(::getpid()) + "."));
  EXPECT_TRUE(fs::exists(file.temp_path()));
  EXPECT_FALSE(fs::exists(target));
  file.write("x");
  file.commit();
  EXPECT_TRUE(file.committed());
  EXPECT_FALSE(fs::exists(file.temp_path()));
  EXPECT_EQ(read(target), "x");
}

TEST_F(AtomicFileTest, FailureMidwayKeepsOldContentAndNoTempFile) {
  const fs::path target = dir_ / "submit.csv";
  write_file_atomic(target, "id,label\n0,old\n");
  EXPECT_THROW(
      {
        AtomicFile file(target);
        file.write("id,label\n");
        file.write("0,half-writ");
        throw std::runtime_error("writer failed before commit");
      },
      std::runtime_error);
  EXPECT_EQ(read(target), "id,label\n0,old\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"submit.csv"});
}

TEST_F(AtomicFileTest, UncommittedNewFileLeavesNothing) {
  { AtomicFile file(dir_ / "never.txt"); file.write("data"); }
  EXPECT_TRUE(entries().empty());
}

TEST_F(AtomicFileTest, UniqueTempNames) {
  AtomicFile a(dir_ / "f");
  AtomicFile b(dir_ / "f");
  EXPECT_NE(a.temp_path(), b.temp_path());
  a.write("a");
  b.write("b");
  a.commit();
  b.commit();
  EXPECT_EQ(read(dir_ / "f"), "b");
  EXPECT_EQ(entries(), std::vector<std::string>{"f"});
}

TEST_F(AtomicFileTest, MissingDirectoryThrows) {
  EXPECT_THAT([&] { write_file_atomic(dir_ / "no" / "such" / "out.txt", "x"); },
              ThrowsMessage<IOError>(AllOf(HasSubstr("out.txt"), HasSubstr("cannot create"),
                                         HasSubstr("No such file or directory"))));
}

TEST_F(AtomicFileTest, RenameOverDirectoryFailsCleanly) {
  fs::create_directories(dir_ / "target" / "child");
  EXPECT_THAT([&] { write_file_atomic(dir_ / "target", "x"); },
              ThrowsMessage<IOError>(HasSubstr("cannot rename")));
  EXPECT_TRUE(fs::is_directory(dir_ / "target"));
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(AtomicFileTest, WriteAfterCommitThrows) {
  AtomicFile file(dir_ / "f");
  file.commit();
  EXPECT_THAT([&] { file.write("late"); }, ThrowsMessage<IOError>(HasSubstr("write after commit")));
  EXPECT_THAT([&] { file.commit(); }, ThrowsMessage<IOError>(HasSubstr("commit after commit")));
  EXPECT_EQ(read(dir_ / "f"), "");
}

}  // namespace
}  // namespace ignis
