// Tests of tensor/io/safetensors.h: round trips, the file layout, byte-exact interop with
// PyTorch's safetensors (fixtures from tests/reference/make_safetensors_fixtures.py), and
// hostile files, each of which must load consistently or throw ParseError.
#include "tensor/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "support/fixture.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/io/atomic_file.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// A contiguous CPU tensor of `shape` with varied values (negative, fractional where the dtype
// allows).
Tensor pattern(const Shape& shape, DType dtype) {
  Tensor t = make_tensor(shape, dtype, Device::cpu());
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      p[i] = static_cast<T>(static_cast<double>(i * 37 % 101 - 50) * 0.75);
    }
  });
  return t;
}

// Same dtype, shape and bytes (so NaN payloads and -0.0 count).
::testing::AssertionResult same_bits(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype() || got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure()
           << "got " << dtype_name(got.dtype()) << " " << got.shape_str() << ", want "
           << dtype_name(want.dtype()) << " " << want.shape_str();
  }
  const Tensor a = raw::contiguous(got);
  const Tensor b = raw::contiguous(want);
  if (a.nbytes() > 0 && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) != 0) {
    return ::testing::AssertionFailure() << "values differ: got " << got << ", want " << want;
  }
  return ::testing::AssertionSuccess();
}

// A file from its header text (unpadded) and data buffer.
std::string file_from(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SafetensorsFile load_bytes(const std::string& bytes) {
  return safetensors_from_bytes(bytes, "model.safetensors");
}

NamedTensors all_dtypes() {
  return {{"f32", pattern({2, 3}, kFloat32)},   {"f64", pattern({4}, kFloat64)},
          {"i64", pattern({}, kInt64)},         {"i32", pattern({3, 1, 2}, kInt32)},
          {"u8", pattern({5}, kUInt8)},         {"bool", pattern({2, 2}, kBool)},
          {"empty", pattern({0, 3}, kFloat32)}, {"scalar_f32", pattern({}, kFloat32)}};
}

void expect_same(const NamedTensors& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, t] : want) {
    bool found = false;
    for (const auto& [got_name, got_t] : got) {
      if (got_name != name) continue;
      found = true;
      EXPECT_TRUE(same_bits(got_t, t)) << name;
    }
    EXPECT_TRUE(found) << "missing " << name;
  }
}

TEST(Safetensors, RoundTripsAllDtypesInMemory) {
  const NamedTensors tensors = all_dtypes();
  const SafetensorsMetadata metadata{{"format", "pt"}, {"note", "caf\xC3\xA9 \"quoted\"\n"}};
  const SafetensorsFile file = load_bytes(safetensors_to_bytes(tensors, metadata));
  expect_same(file.tensors, tensors);
  EXPECT_EQ(file.metadata, metadata);
  for (const auto& [name, t] : file.tensors) {
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_TRUE(t.is_cpu()) << name;
  }
}

TEST(Safetensors, RoundTripsThroughAFile) {
  const fs::path path =
      fs::temp_directory_path() / ("ignis_st_" + std::to_string(::getpid()) + ".safetensors");
  const NamedTensors tensors = all_dtypes();
  save_safetensors(path, tensors, {{"format", "pt"}});
  EXPECT_EQ(read_file(path), safetensors_to_bytes(tensors, {{"format", "pt"}}));
  const SafetensorsFile file = load_safetensors(path);
  fs::remove(path);
  expect_same(file.tensors, tensors);
  EXPECT_EQ(file.metadata, (SafetensorsMetadata{{"format", "pt"}}));
}

TEST(Safetensors, SavesNonContiguousAsContiguous) {
  const Tensor base = pattern({2, 3}, kFloat64);
  const Tensor transposed = raw::transpose(base, 0, 1);  // (3, 2), strides (1, 3)
  const Tensor strided = raw::slice(pattern({10}, kInt32), 0, 1, 10, 3);  // (3,), stride 3
  ASSERT_FALSE(transposed.is_contiguous());
  const SafetensorsFile file =
      load_bytes(safetensors_to_bytes({{"t", transposed}, {"s", strided}}));
  expect_same(file.tensors, {{"t", raw::contiguous(transposed)}, {"s", raw::contiguous(strided)}});
}

TEST(Safetensors, LayoutFollowsTheRustWriter) {
  // Sorted by dtype (I64, F64, F32, I32, U8, BOOL), then by name; no metadata if empty;
  // header padded with spaces to a multiple of 8.
  const std::string bytes = safetensors_to_bytes({{"b", pattern({1}, kBool)},
                                                  {"z", pattern({1}, kFloat32)},
                                                  {"a", pattern({1}, kFloat32)},
                                                  {"i", pattern({}, kInt64)}});
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 8 + 4 + 4 + 1);
  const std::string header = bytes.substr(8, n);
  const std::string json =
      R"({"i":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
      R"("z":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},)"
      R"("b":{"dtype":"BOOL","shape":[1],"data_offsets":[16,17]}})";
  EXPECT_EQ(header, json + std::string(n - json.size(), ' '));
  const SafetensorsFile file = load_bytes(bytes);
  ASSERT_EQ(file.tensors.size(), 4u);
  EXPECT_EQ(file.tensors[0].first, "i");  // the header's order
  EXPECT_EQ(file.tensors[3].first, "b");
  EXPECT_TRUE(file.metadata.empty());
}

TEST(Safetensors, NamesAreEscapedAsSerdeJsonDoes) {
  // The header save_file writes for this name, checked with PyTorch's safetensors.
  const std::string name = "a\x01\"b\\/\xC3\xA9\n\x7f\t";
  const std::string bytes = safetensors_to_bytes({{name, pattern({1}, kFloat32)}});
  const std::string json = R"({"a\u0001\"b\\/)"
                           "\xC3\xA9"
                           R"(\n)"
                           "\x7f"
                           R"(\t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_EQ(bytes.substr(8, json.size()), json);
  EXPECT_EQ(load_bytes(bytes).tensors.at(0).first, name);
}

TEST(Safetensors, EmptyFileHasOnlyAHeader) {
  const std::string bytes = safetensors_to_bytes({});
  EXPECT_EQ(bytes.substr(8), "{}      ");
  EXPECT_TRUE(load_bytes(bytes).tensors.empty());
}

TEST(Safetensors, WriterRejectsBadNames) {
  EXPECT_THAT([] {
                safetensors_to_bytes({{"a", pattern({1}, kFloat32)}, {"a", pattern({1}, kInt32)}});
              },
              ThrowsMessage<ValueError>(HasSubstr("duplicate tensor name 'a'")));
  EXPECT_THAT([] { safetensors_to_bytes({{"__metadata__", pattern({1}, kFloat32)}}); },
              ThrowsMessage<ValueError>(HasSubstr("'__metadata__' is reserved")));
  EXPECT_THAT([] { safetensors_to_bytes({{"w", Tensor()}}); },
              ThrowsMessage<ValueError>(HasSubstr("tensor 'w' is undefined")));
}

// ---- interop with PyTorch ----

const std::string kReferenceDir = std::string(IGNIS_TEST_DATA_DIR) + "/reference/";

NamedTensors fixture_tensors() {
  const auto cases = test::load_fixtures(kReferenceDir + "safetensors_fixtures.txt");
  NamedTensors tensors;
  for (const test::NamedTensor& t : cases.at(0).outputs) tensors.emplace_back(t.name, t.value);
  return tensors;
}

TEST(SafetensorsInterop, LoadsTheFileTorchWrote) {
  const NamedTensors want = fixture_tensors();
  ASSERT_EQ(want.size(), 9u);
  const SafetensorsFile file = load_safetensors(kReferenceDir + "torch_written.safetensors");
  expect_same(file.tensors, want);
  EXPECT_EQ(file.metadata, (SafetensorsMetadata{{"format", "pt"},
                                                {"producer", "make_safetensors_fixtures.py"}}));
}

// Set IGNIS_REGENERATE_SAFETENSORS=1 to rewrite ignis_written.safetensors, then check it with
// make_safetensors_fixtures.py (PyTorch must load it and write the same bytes).
TEST(SafetensorsInterop, WritesTheBytesTorchWrites) {
  const std::string path = kReferenceDir + "ignis_written.safetensors";
  const std::string bytes = safetensors_to_bytes(fixture_tensors(), {{"format", "pt"}});
  if (std::getenv("IGNIS_REGENERATE_SAFETENSORS") != nullptr) write_file_atomic(path, bytes);
  EXPECT_TRUE(bytes == read_file(path)) << "ignis's bytes differ from " << path;
}

// ---- hostile files ----

// A small valid file: every dtype class, a 0-d and an empty tensor, metadata.
std::string small_file() {
  return safetensors_to_bytes({{"w", pattern({2, 3}, kFloat32)},
                               {"step", pattern({}, kInt64)},
                               {"mask", pattern({3}, kBool)},
                               {"none", pattern({0}, kUInt8)}},
                              {{"format", "pt"}});
}

TEST(SafetensorsHostile, EveryTruncationThrows) {
  const std::string bytes = small_file();
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(load_bytes(bytes.substr(0, len)), ParseError) << "prefix of " << len << " bytes";
  }
  EXPECT_NO_THROW(load_bytes(bytes));
}

TEST(SafetensorsHostile, EveryBitFlipLoadsConsistentlyOrThrows) {
  const std::string bytes = small_file();
  int loaded = 0;
  int rejected = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      try {
        const SafetensorsFile file = load_bytes(flipped);
        // What loads must survive a second round trip unchanged.
        const SafetensorsFile again =
            load_bytes(safetensors_to_bytes(file.tensors, file.metadata));
        expect_same(again.tensors, file.tensors);
        EXPECT_EQ(again.metadata, file.metadata);
        ++loaded;
      } catch (const ParseError&) {
        ++rejected;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << i << " bit " << bit << ": not a ParseError: " << e.what();
      }
    }
  }
  EXPECT_GT(loaded, 0);  // flips in the data and in names load
  EXPECT_GT(rejected, 0);
}

// Random edits of the header: bytes replaced by characters that matter in JSON, or removed.
TEST(SafetensorsHostile, RandomHeaderEditsLoadOrThrow) {
  const std::string bytes = small_file();
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const std::string alphabet = "{}[]\":,0123456789-.eE \\u\xff\x01";
  std::mt19937_64 rng(7);
  int loaded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string edited = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = 8 + rng() % n;
      if (rng() % 4 == 0) {
        edited.erase(at, 1);
      } else {
        edited[at] = alphabet[rng() % alphabet.size()];
      }
    }
    try {
      load_bytes(edited);
      ++loaded;
    } catch (const ParseError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": not a ParseError: " << e.what();
    }
  }
  EXPECT_GT(loaded, 0);
}

struct HostileCase {
  const char* what;
  std::string bytes;
  const char* message;
};

TEST(SafetensorsHostile, ErrorsNameFileAndProblem) {
  const std::string f32x2(8, '\0');
  std::string huge_length(8, '\0');
  huge_length[7] = '\x80';  // 2^63
  std::string long_length = file_from("{}", "");
  long_length[0] = 11;  // header of 11 bytes in a file that has 2 after the length
  const HostileCase cases[] = {
      {"shape/offset mismatch",
       file_from(R"({"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}})",
                 std::string(12, '\0')),
       "model.safetensors: tensor '0.weight': data_offsets [0, 12] do not match shape (2, 3) "
       "of F32 (24 bytes)"},
      {"too short", std::string(7, '\0'), "file is 7 bytes, too short"},
      {"header length 2^63", huge_length + "{}", "exceeds the limit of 100000000 bytes"},
      {"header length past the end", long_length, "header length 11 exceeds the 2 bytes"},
      {"not an object", file_from(" {}", ""), "header does not start with '{'"},
      {"invalid JSON", file_from(R"({"a":})", ""), "model.safetensors: byte 13: "},
      {"trailing content", file_from("{}]", ""), "byte 10: unexpected content"},
      {"overlap",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                 std::string(12, '\0')),
       "tensor 'b': data_offsets [4, 12] overlap the previous tensor, which ends at 8"},
      {"same offsets",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                 f32x2),
       "overlap the previous tensor"},
      {"gap",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                 std::string(20, '\0')),
       "tensor 'b': data_offsets [12, 20] leave a gap after the previous tensor"},
      {"trailing bytes",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32x2 + "xx"),
       "tensors cover 8 bytes, but the data buffer after the header is 10 bytes"},
      {"offsets past the end",
       file_from(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", f32x2),
       "tensors cover 16 bytes, but the data buffer after the header is 8 bytes"},
      {"end before begin",
       file_from(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", f32x2),
       "tensor 'a': data_offsets [8, 0] end before they begin"},
      {"offsets not a pair",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", f32x2),
       "data_offsets must be an array [begin, end]"},
      {"negative offset",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", f32x2),
       "data_offsets begin must be a non-negative integer, got -8"},
      {"huge shape product",
       file_from(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                 f32x2),
       "tensor 'a': shape (4294967296, 4294967296) of F32 overflows the byte count"},
      {"huge empty shape",
       file_from(R"({"a":{"dtype":"U8","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}})",
                 ""),
       "overflows the byte count"},
      {"negative shape",
       file_from(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2),
       "tensor 'a': shape entry must be a non-negative integer, got -2"},
      {"fractional shape",
       file_from(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", f32x2),
       "shape entry must be a non-negative integer, got 2.0"},
      {"shape beyond int64",
       file_from(R"({"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}})",
                 f32x2),
       "shape entry must be a non-negative integer"},
      {"unknown dtype",
       file_from(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", f32x2),
       "tensor 'a': unsupported dtype 'F16' (ignis reads F32, F64, I64, I32, U8, BOOL)"},
      {"missing field", file_from(R"({"a":{"dtype":"F32","shape":[2]}})", f32x2),
       "tensor 'a': needs the fields dtype, shape and data_offsets"},
      {"unknown field",
       file_from(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", f32x2),
       "tensor 'a': unknown field 'x'"},
      {"entry not an object", file_from(R"({"a":[1]})", ""),
       "tensor 'a': expected an object, got array"},
      {"duplicate names",
       file_from(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                 R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                 f32x2),
       "duplicate key \"a\""},
      {"metadata value not a string", file_from(R"({"__metadata__":{"epoch":3}})", ""),
       "__metadata__ 'epoch': value must be a string, got int"},
      {"metadata not an object", file_from(R"({"__metadata__":"pt"})", ""),
       "__metadata__ must be an object of strings"},
      {"bool byte 2",
       file_from(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", "\x01\x02"),
       "tensor 'm': BOOL byte 1 is 2, not 0 or 1"},
      {"deep nesting", file_from("{\"a\":" + std::string(100, '['), ""), "deeper than 64"},
  };
  for (const HostileCase& c : cases) {
    EXPECT_THAT([&] { load_bytes(c.bytes); },
                ThrowsMessage<ParseError>(AllOf(HasSubstr("model.safetensors: "),
                                                HasSubstr(c.message))))
        << c.what;
  }
}

TEST(SafetensorsHostile, LoadNamesThePath) {
  const fs::path dir = fs::temp_directory_path();
  const fs::path missing = dir / "ignis_no_such_file.safetensors";
  EXPECT_THAT([&] { load_safetensors(missing); },
              ThrowsMessage<ParseError>(HasSubstr("ignis_no_such_file.safetensors: cannot open")));
  const fs::path bad = dir / ("ignis_bad_" + std::to_string(::getpid()) + ".safetensors");
  write_file_atomic(bad, file_from(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}})",
                                   std::string(12, '\0')));
  EXPECT_THAT([&] { load_safetensors(bad); },
              ThrowsMessage<ParseError>(HasSubstr(bad.string() + ": tensor 'a': data_offsets")));
  fs::remove(bad);
}

}  // namespace
}  // namespace ignis
