// read_idx and load_mnist: every IDX type, gzip input, and malformed files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/idx.h"
#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ignis_idx_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // An IDX header: type byte and big-endian sizes.
  static std::string header(uint8_t type, const std::vector<uint32_t>& sizes) {
    std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(sizes.size())};
    for (uint32_t s : sizes) {
      for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<char>(s >> shift));
    }
    return h;
  }

  std::filesystem::path dir_;
};

std::string fixture(const std::string& name) {
  return std::string(IGNIS_TEST_DATA_DIR) + "/reference/" + name;
}

TEST_F(IdxTest, ReadsUInt8Rank3) {
  Tensor t = read_idx(fixture("idx_u8_2x3x4.idx"));
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.dtype(), kUInt8);
  std::vector<uint8_t> values = t.to_vector<uint8_t>();
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], (i * 37 + 11) % 256) << i;
}

TEST_F(IdxTest, GzipMatchesPlainOrAsksToGunzip) {
  const auto gz = fixture("idx_u8_2x3x4.idx.gz");
  if (idx_supports_gzip()) {
    EXPECT_EQ(read_idx(gz).to_vector<uint8_t>(),
              read_idx(fixture("idx_u8_2x3x4.idx")).to_vector<uint8_t>());
  } else {
    EXPECT_THAT([&] { read_idx(gz); }, ThrowsMessage<IOError>(HasSubstr("gunzip")));
  }
}

TEST_F(IdxTest, ReadsBigEndianWiderTypes) {
  // int16 -300 = 0xFED4; int32 70000 = 0x00011170; float32 1.5 = 0x3FC00000;
  // float64 -2.25 = 0xC002000000000000.
  std::string i16 = header(0x0B, {2}) + std::string("\xFE\xD4\x00\x07", 4);
  EXPECT_EQ(read_idx(write("a", i16)).to_vector<int32_t>(), (std::vector<int32_t>{-300, 7}));
  std::string i32 = header(0x0C, {1}) + std::string("\x00\x01\x11\x70", 4);
  EXPECT_EQ(read_idx(write("b", i32)).to_vector<int32_t>(), (std::vector<int32_t>{70000}));
  std::string f32 = header(0x0D, {1, 1}) + std::string("\x3F\xC0\x00\x00", 4);
  Tensor f = read_idx(write("c", f32));
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f}));
  std::string f64 = header(0x0E, {1}) + std::string("\xC0\x02\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_EQ(read_idx(write("d", f64)).to_vector<double>(), (std::vector<double>{-2.25}));
  std::string i8 = header(0x09, {2}) + std::string("\xFF\x05", 2);
  EXPECT_EQ(read_idx(write("e", i8)).to_vector<int32_t>(), (std::vector<int32_t>{-1, 5}));
}

TEST_F(IdxTest, RejectsMalformedFiles) {
  EXPECT_THAT([&] { read_idx(dir_ / "missing.idx"); },
              ThrowsMessage<IOError>(HasSubstr("missing.idx")));
  EXPECT_THAT([&] { read_idx(write("magic", "\x01\x00\x08\x01")); },
              ThrowsMessage<ParseError>(HasSubstr("not an IDX file")));
  EXPECT_THAT([&] { read_idx(write("type", header(0x07, {1}) + "x")); },
              ThrowsMessage<ParseError>(HasSubstr("unknown IDX type byte 0x07")));
  EXPECT_THAT([&] { read_idx(write("short", header(0x08, {2, 3}) + "abc")); },
              ThrowsMessage<ParseError>(HasSubstr("15 bytes, the header says 18")));
  EXPECT_THAT([&] { read_idx(write("head", std::string("\0\0\x08\x02\0\0", 6))); },
              ThrowsMessage<ParseError>(HasSubstr("truncated header")));
}

TEST_F(IdxTest, LoadsAnMnistSplit) {
  std::string images = header(0x08, {3, 2, 2}) + std::string(12, '\x7f');
  std::string labels = header(0x08, {3}) + std::string("\x01\x09\x00", 3);
  write("t10k-images-idx3-ubyte", images);
  write("t10k-labels-idx1-ubyte", labels);
  MnistSplit split = load_mnist(dir_, /*train=*/false);
  EXPECT_EQ(split.images.sizes(), (Shape{3, 2, 2}));
  EXPECT_EQ(split.labels.dtype(), kInt64);
  EXPECT_EQ(split.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 9, 0}));
  EXPECT_THAT([&] { load_mnist(dir_, /*train=*/true); },
              ThrowsMessage<IOError>(HasSubstr("train-images-idx3-ubyte.gz")));
  write("t10k-labels-idx1-ubyte", header(0x08, {2}) + std::string("\x01\x09", 2));
  EXPECT_THAT([&] { load_mnist(dir_, false); },
              ThrowsMessage<ShapeError>(HasSubstr("do not match")));
}

}  // namespace
}  // namespace ignis::data
