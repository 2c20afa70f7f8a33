// Tests of nn/checkpoint.h: model checkpoints PyTorch wrote load bit-exact into the ignis twin
// models and compute the same outputs; ignis writes the bytes PyTorch writes (fixtures from
// tests/reference/make_checkpoint_fixtures.py); load errors name the keys; saving is atomic.
#include "nn/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/grad_mode.h"
#include "nn/container.h"
#include "nn/layers.h"
#include "support/fixture.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/io/atomic_file.h"

namespace ignis {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

const std::string kReferenceDir = std::string(IGNIS_TEST_DATA_DIR) + "/reference/";

// The twins of make_checkpoint_fixtures.py's bag_model() and cnn_model().
nn::Sequential bag_model() { return nn::Sequential(nn::EmbeddingBag(20, 8), nn::Linear(8, 5)); }
nn::Sequential cnn_model() {
  return nn::Sequential(nn::Conv2d(1, 4, 3, {.padding = 1}), nn::BatchNorm2d(4), nn::ReLU(),
                        nn::MaxPool2d(2), nn::Flatten(), nn::Linear(4 * 4 * 4, 3));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Same dtype, shape and bytes.
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ca = a.contiguous().cpu();
  const Tensor cb = b.contiguous().cpu();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

// The same names (in any order) with bit-identical tensors.
void expect_same_state(const nn::StateDict& got, const nn::StateDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    const auto it = std::find_if(got.begin(), got.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    ASSERT_NE(it, got.end()) << "no entry " << name;
    EXPECT_TRUE(same_bits(it->second, tensor)) << "entry " << name;
  }
}

// The state of bag_model() make_checkpoint_fixtures.py's bag_values() describes: entry k,
// element i = ((7 i + 3 k) mod 23 - 11) / 32.
nn::StateDict bag_values() {
  nn::StateDict state = bag_model().state_dict();
  for (size_t k = 0; k < state.size(); ++k) {
    Tensor t = make_tensor(state[k].second.shape(), kFloat32, Device::cpu());
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      p[i] = static_cast<float>((7 * i + 3 * static_cast<int64_t>(k)) % 23 - 11) / 32.0f;
    }
    state[k].second = t;
  }
  return state;
}

// A fresh path under the temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() : dir_(fs::temp_directory_path() / ("ignis_ckpt_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  fs::path operator/(const std::string& name) const { return dir_ / name; }
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

// ---- files PyTorch wrote ----

void check_torch_model(nn::Sequential& model, const std::string& file, const std::string& name) {
  const fs::path path = kReferenceDir + file;
  const SafetensorsMetadata metadata = nn::load(model, path);
  EXPECT_EQ(metadata, (SafetensorsMetadata{{"format", "pt"}}));
  expect_same_state(model.state_dict(), load_safetensors(path).tensors);

  const auto cases = test::load_fixtures(kReferenceDir + "checkpoint_fixtures.txt");
  const auto it = std::find_if(cases.begin(), cases.end(),
                               [&](const test::FixtureCase& c) { return c.name == name; });
  ASSERT_NE(it, cases.end()) << "no fixture " << name;
  model.eval();
  NoGradGuard no_grad;
  const Tensor got = model(test::find_tensor(it->inputs, "x")).contiguous();
  const Tensor want = test::find_tensor(it->outputs, "y");
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.dtype(), kFloat32);
  const float* g = got.data_ptr<float>();
  const float* w = want.data_ptr<float>();
  double scale = 1.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(w[i])));
  for (int64_t i = 0; i < want.numel(); ++i) {
    EXPECT_LE(std::fabs(double(g[i]) - w[i]), 1e-5 * std::fabs(double(w[i])) + 1e-6 * scale)
        << name << " output " << i << ": " << g[i] << " vs " << w[i];
  }
}

TEST(CheckpointInterop, TorchBagModelLoadsBitExact) {
  nn::Sequential model = bag_model();
  check_torch_model(model, "torch_model_bag.safetensors", "bag");
}

TEST(CheckpointInterop, TorchCnnModelLoadsBitExactWithBatchNormBuffers) {
  nn::Sequential model = cnn_model();
  check_torch_model(model, "torch_model_cnn.safetensors", "cnn");
  const auto& bn = dynamic_cast<const nn::BatchNorm&>(*model.named_children()[1].second);
  ASSERT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn.num_batches_tracked.data_ptr<int64_t>()[0], 7);
}

// Set IGNIS_REGENERATE_CHECKPOINTS=1 to rewrite ignis_model_bag.safetensors, then check it with
// make_checkpoint_fixtures.py (PyTorch must load it strictly and write the same bytes).
TEST(CheckpointInterop, WritesTheBytesTorchWrites) {
  nn::Sequential model = bag_model();
  model.load_state_dict(bag_values());
  const fs::path path = kReferenceDir + "ignis_model_bag.safetensors";
  TempDir dir;
  const fs::path written =
      std::getenv("IGNIS_REGENERATE_CHECKPOINTS") != nullptr ? path : dir / "bag.safetensors";
  nn::save(model, written, {{"format", "pt"}});
  EXPECT_TRUE(read_file(written) == read_file(path)) << "ignis's bytes differ from " << path;
}

// ---- round trip ----

TEST(Checkpoint, SavedModelLoadsIntoAFreshOneWithTheSameState) {
  TempDir dir;
  nn::Sequential model = cnn_model();
  {
    NoGradGuard no_grad;
    model(randn({3, 1, 8, 8}));  // training mode: moves the running statistics
  }
  nn::save(model, dir / "cnn.safetensors");
  nn::Sequential fresh = cnn_model();
  EXPECT_TRUE(nn::load(fresh, dir / "cnn.safetensors").empty());
  expect_same_state(fresh.state_dict(), model.state_dict());
  const auto& bn = dynamic_cast<const nn::BatchNorm&>(*fresh.named_children()[1].second);
  EXPECT_EQ(bn.num_batches_tracked.data_ptr<int64_t>()[0], 1);
}

// ---- errors ----

TEST(Checkpoint, LoadErrorsNameTheKeys) {
  TempDir dir;
  nn::StateDict state = bag_values();
  const Tensor bias = state[2].second;
  state.erase(state.begin() + 2);                                 // "1.bias" missing
  state.emplace_back("2.weight", bias);                           // unexpected
  state[1].second = make_tensor({5, 7}, kFloat32, Device::cpu());  // "1.weight" mismatched
  save_safetensors(dir / "bad.safetensors", state);

  nn::Sequential model = bag_model();
  const nn::StateDict before = model.state_dict();
  std::vector<Tensor> snapshot;
  for (const auto& [name, t] : before) snapshot.push_back(t.clone());
  EXPECT_THAT([&] { nn::load(model, dir / "bad.safetensors"); },
              ThrowsMessage<ValueError>(AllOf(HasSubstr("\"1.bias\""), HasSubstr("\"2.weight\""),
                                              HasSubstr("1.weight"), HasSubstr("(5, 7)"),
                                              HasSubstr("(5, 8)"))));
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(same_bits(before[i].second, snapshot[i])) << before[i].first << " changed";
  }
  // Not strict: missing and unexpected keys pass, the shape mismatch still throws.
  EXPECT_THAT([&] { nn::load(model, dir / "bad.safetensors", false); },
              ThrowsMessage<ValueError>(HasSubstr("1.weight")));
}

TEST(Checkpoint, CorruptFileIsAParseError) {
  TempDir dir;
  nn::Sequential model = bag_model();
  nn::save(model, dir / "ok.safetensors");
  std::string bytes = read_file(dir / "ok.safetensors");
  bytes.resize(bytes.size() - 3);
  write_file_atomic(dir / "cut.safetensors", bytes);
  EXPECT_THAT([&] { nn::load(model, dir / "cut.safetensors"); },
              ThrowsMessage<ParseError>(HasSubstr("cut.safetensors")));
  write_file_atomic(dir / "junk.safetensors", "not a safetensors file at all");
  EXPECT_THROW(nn::load(model, dir / "junk.safetensors"), ParseError);
  EXPECT_THROW(nn::load(model, dir / "absent.safetensors"), ParseError);
}

// A module whose state cannot be saved: a parameter named as the header's metadata entry.
class BadName : public nn::Module {
 public:
  BadName() : Module("BadName") { register_parameter("__metadata__", zeros({2})); }
};

int64_t entries(const fs::path& dir) {
  return std::distance(fs::directory_iterator(dir), fs::directory_iterator());
}

TEST(Checkpoint, FailedSaveLeavesTheOldFile) {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  nn::save(bag_model(), path);
  const std::string old = read_file(path);
  EXPECT_THROW(nn::save(BadName(), path), ValueError);
  EXPECT_TRUE(read_file(path) == old);
  EXPECT_EQ(entries(dir.path()), 1);  // no temporary file left behind
}

TEST(Checkpoint, SaveIntoAnUnwritableDirectoryLeavesTheOldFile) {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  nn::save(bag_model(), path);
  const std::string old = read_file(path);
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(dir.path().c_str(), W_OK) == 0) {
    GTEST_SKIP() << "the directory stays writable (running as root)";
  }
  EXPECT_THROW(nn::save(bag_model(), path), IOError);
  EXPECT_TRUE(read_file(path) == old);
  EXPECT_EQ(entries(dir.path()), 1);
}

}  // namespace
}  // namespace ignis
