// Tests of engine/handlers/checkpoint: rotation, best-by-score, filters, file name patterns,
// directory checks, failed saves, the engine state file, and resuming from a checkpoint.
#include "engine/handlers/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ignis::engine {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::ThrowsMessage;

using IntEngine = Engine<int, int>;

IntEngine make_engine() {
  return IntEngine([](EngineBase&, const int& batch) { return batch; });
}

// A fresh directory for one test, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("ignis_checkpoint_test_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A "model" that is one number, saved as text.
Saver number_saver(const int64_t& value) {
  return {[&value](const fs::path& path) { std::ofstream(path) << value; }, "txt"};
}

TEST(Checkpoint, RotationKeepsExactlyNSaved) {
  TempDir dir("rotation");
  int64_t model = 0;  // the sum of the batches seen
  IntEngine trainer([&](EngineBase&, const int& batch) {
    model += batch;
    return batch;
  });
  Checkpoint checkpoint({{"model", number_saver(model)}, {"trainer", engine_state_saver(trainer)}},
                        {.dirname = dir.path, .filename_prefix = "run", .n_saved = 2});
  trainer.on(Events::EPOCH_COMPLETED, checkpoint);
  std::vector<std::vector<std::string>> listings;
  trainer.on(Events::EPOCH_COMPLETED, [&] { listings.push_back(files_in(dir.path)); });
  std::vector<int> data = {1, 2};
  trainer.run(data, 4);

  EXPECT_THAT(listings, ElementsAre(ElementsAre("run_model_2.txt", "run_trainer_2.json"),
                                    ElementsAre("run_model_2.txt", "run_model_4.txt",
                                                "run_trainer_2.json", "run_trainer_4.json"),
                                    ElementsAre("run_model_4.txt", "run_model_6.txt",
                                                "run_trainer_4.json", "run_trainer_6.json"),
                                    ElementsAre("run_model_6.txt", "run_model_8.txt",
                                                "run_trainer_6.json", "run_trainer_8.json")));
  ASSERT_EQ(checkpoint.saved().size(), 2u);
  EXPECT_EQ(checkpoint.saved()[0].priority, 6.0);
  EXPECT_EQ(checkpoint.saved()[1].priority, 8.0);
  const std::optional<Checkpoint::Item> last = checkpoint.last_checkpoint();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->files.at("model"), dir.path / "run_model_8.txt");
  EXPECT_EQ(read_file(last->files.at("model")), "12");
  EXPECT_EQ(load_engine_state(last->files.at("trainer")).at("iteration"), 8);
}

TEST(Checkpoint, EveryNEpochsWithTheEpochAsGlobalStepAndNSavedZeroKeepsAll) {
  TempDir dir("every");
  int64_t model = 7;
  IntEngine trainer = make_engine();
  Checkpoint checkpoint({{"model", number_saver(model)}},
                        {.dirname = dir.path,
                         .n_saved = 0,
                         .global_step_transform = global_step_from_engine(trainer)});
  trainer.on(Events::EPOCH_COMPLETED(every(2)), checkpoint);
  std::vector<int> data = {1, 2, 3};
  trainer.run(data, 7);
  EXPECT_THAT(files_in(dir.path), ElementsAre("model_2.txt", "model_4.txt", "model_6.txt"));
  EXPECT_EQ(checkpoint.saved().size(), 3u);
  EXPECT_EQ(checkpoint.last_checkpoint()->files.at("model"), dir.path / "model_6.txt");

  checkpoint.reset();
  EXPECT_THAT(checkpoint.saved(), IsEmpty());
  EXPECT_FALSE(checkpoint.last_checkpoint());
}

// Scores per epoch, and the files kept at the end.
struct ScoreCase {
  const char* name;
  bool with_global_step;
  bool greater_or_equal;
  std::vector<std::string> kept;  // worst first
};

TEST(Checkpoint, KeepsTheBestByScore) {
  const std::vector<double> scores = {0.5, 0.9, 0.7, 0.95, 0.1, 0.9};
  const std::vector<ScoreCase> cases = {
      {"plain", false, false, {"best_model_accuracy=0.9000.txt", "best_model_accuracy=0.9500.txt"}},
      {"global step",
       true,
       false,
       {"best_model_2_accuracy=0.9000.txt", "best_model_4_accuracy=0.9500.txt"}},
      // An equal score replaces the older one only with greater_or_equal.
      {"greater or equal",
       true,
       true,
       {"best_model_6_accuracy=0.9000.txt", "best_model_4_accuracy=0.9500.txt"}},
  };
  for (const ScoreCase& c : cases) {
    TempDir dir(std::string("best_") + (c.with_global_step ? "step" : "") +
                (c.greater_or_equal ? "ge" : ""));
    int64_t model = 0;
    IntEngine trainer = make_engine();
    CheckpointOptions options{
        .dirname = dir.path,
        .filename_prefix = "best",
        .n_saved = 2,
        .score_function = [&](EngineBase& e) { return scores.at(e.state().epoch - 1); },
        .score_name = "accuracy",
        .greater_or_equal = c.greater_or_equal};
    if (c.with_global_step) options.global_step_transform = global_step_from_engine(trainer);
    Checkpoint checkpoint({{"model", number_saver(model)}}, options);
    trainer.on(Events::EPOCH_COMPLETED, checkpoint);
    std::vector<int> data = {1};
    trainer.run(data, static_cast<int64_t>(scores.size()));

    std::vector<std::string> kept;
    for (const Checkpoint::Item& item : checkpoint.saved()) {
      kept.push_back(item.files.at("model").filename().string());
    }
    EXPECT_THAT(kept, ElementsAreArray(c.kept)) << c.name;
    std::vector<std::string> sorted = c.kept;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_THAT(files_in(dir.path), ElementsAreArray(sorted)) << c.name;
    EXPECT_EQ(checkpoint.last_checkpoint()->priority, 0.95) << c.name;
  }
}

// The file name of the one object "model" (ext "txt") saved at epoch 3, iteration 12.
struct PatternCase {
  CheckpointOptions options;
  std::string expected;
};

TEST(Checkpoint, FormatsFileNamesAsIgnite) {
  auto score = [](EngineBase&) { return -0.25; };
  auto epoch = [](EngineBase& e) { return e.state().epoch; };
  const std::vector<PatternCase> cases = {
      {{}, "model_12.txt"},
      {{.filename_prefix = "p"}, "p_model_12.txt"},
      {{.global_step_transform = epoch}, "model_3.txt"},
      {{.score_function = score}, "model_-0.2500.txt"},
      {{.score_function = score, .score_name = "neg_loss"}, "model_neg_loss=-0.2500.txt"},
      {{.filename_prefix = "p",
        .score_function = score,
        .score_name = "neg_loss",
        .global_step_transform = epoch},
       "p_model_3_neg_loss=-0.2500.txt"},
      {{.filename_prefix = "p", .score_function = score, .global_step_transform = epoch},
       "p_model_3_-0.2500.txt"},
      {{.filename_prefix = "p",
        .filename_pattern = "{filename_prefix}-{name}-e{global_step}.{ext}"},
       "p-model-e12.txt"},
      {{.score_function = score,
        .score_name = "s",
        .filename_pattern = "{name}_{global_step}_{score_name}{score}.{ext}"},
       "model_12_s-0.2500.txt"},
  };
  int index = 0;
  for (PatternCase c : cases) {
    TempDir dir("pattern" + std::to_string(index++));
    c.options.dirname = dir.path;
    int64_t model = 1;
    Checkpoint checkpoint({{"model", number_saver(model)}}, c.options);
    IntEngine engine = make_engine();
    engine.state().epoch = 3;
    engine.state().iteration = 12;
    checkpoint(engine);
    EXPECT_THAT(files_in(dir.path), ElementsAre(c.expected)) << c.expected;
  }
}

TEST(Checkpoint, ChecksItsOptions) {
  TempDir dir("options");
  int64_t model = 0;
  auto make = [&](std::map<std::string, Saver> to_save, CheckpointOptions options) {
    options.dirname = dir.path;
    Checkpoint checkpoint(std::move(to_save), std::move(options));
  };
  EXPECT_THAT([&] { make({}, {}); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("Checkpoint: no object to save")));
  EXPECT_THAT(
      [&] {
        make({{"a/b", number_saver(model)}}, {});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("object name 'a/b'")));
  EXPECT_THAT(
      [&] {
        make({{"model", number_saver(model)}}, {.n_saved = -1});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("n_saved must be >= 0")));
  EXPECT_THAT(
      [&] {
        make({{"model", number_saver(model)}}, {.score_name = "acc"});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("score_name 'acc' needs a score_function")));
  EXPECT_THAT(
      [&] {
        make({{"model", number_saver(model)}}, {.filename_pattern = "{name}_{epoch}.{ext}"});
      },
      ThrowsMessage<std::invalid_argument>(
          HasSubstr("unknown field {epoch} in filename_pattern '{name}_{epoch}.{ext}'")));
  EXPECT_THAT(
      [&] {
        make({{"model", number_saver(model)}}, {.filename_pattern = "{name}.{ext"});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("unclosed '{'")));
  EXPECT_THAT(
      [&] {
        make({{"a", number_saver(model)}, {"b", number_saver(model)}},
             {.filename_pattern = "ckpt_{global_step}.{ext}"});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("has no {name}, so the 2 objects")));

  Checkpoint nan_score({{"model", number_saver(model)}},
                       {.dirname = dir.path,
                        .score_function = [](EngineBase&) { return std::nan(""); },
                        .score_name = "acc"});
  IntEngine engine = make_engine();
  EXPECT_THAT([&] { nan_score(engine); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("returned NaN for 'acc'")));
  EXPECT_THAT(files_in(dir.path), IsEmpty());
}

TEST(Checkpoint, RequireEmptyAndCreateDir) {
  TempDir dir("require_empty");
  int64_t model = 0;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "notes.md") << "not a checkpoint";
  Checkpoint first({{"model", number_saver(model)}}, {.dirname = dir.path});  // .md: fine
  std::ofstream(dir.path / "old_model_3.txt") << 1;
  EXPECT_THAT(
      [&] {
        Checkpoint second({{"model", number_saver(model)}}, {.dirname = dir.path});
      },
      ThrowsMessage<std::runtime_error>(
          HasSubstr("Checkpoint: directory '" + dir.path.string() +
                    "' already holds 1 checkpoint file(s) "
                    "(old_model_3.txt); pass require_empty = false")));
  Checkpoint anyway({{"model", number_saver(model)}},
                    {.dirname = dir.path, .require_empty = false});

  const fs::path missing = dir.path / "a" / "b";
  EXPECT_THAT(
      [&] {
        Checkpoint c({{"model", number_saver(model)}}, {.dirname = missing, .create_dir = false});
      },
      ThrowsMessage<std::runtime_error>(
          HasSubstr("directory '" + missing.string() + "' does not exist")));
  Checkpoint created({{"model", number_saver(model)}}, {.dirname = missing});
  EXPECT_TRUE(fs::is_directory(missing));
  EXPECT_THAT(
      [&] {
        Checkpoint c({{"model", number_saver(model)}}, {.dirname = dir.path / "notes.md"});
      },
      ThrowsMessage<std::runtime_error>(HasSubstr("notes.md' is not a directory")));
}

TEST(Checkpoint, AFailingSaveLeavesNoPartialFileAndKeepsThePreviousCheckpoints) {
  TempDir dir("failing");
  int64_t model = 5;
  bool fail = false;
  bool write_nothing = false;
  Saver flaky = {[&](const fs::path& path) {
                   if (write_nothing) return;
                   std::ofstream out(path);
                   out << "partial";
                   out.flush();
                   if (fail) throw std::runtime_error("disk full");
                 },
                 "bin"};
  Checkpoint checkpoint({{"a_model", number_saver(model)}, {"b_optimizer", flaky}},
                        {.dirname = dir.path});
  IntEngine engine = make_engine();
  engine.state().iteration = 1;
  checkpoint(engine);
  EXPECT_THAT(files_in(dir.path), ElementsAre("a_model_1.txt", "b_optimizer_1.bin"));

  fail = true;
  engine.state().iteration = 2;
  const std::string file = (dir.path / "b_optimizer_2.bin").string();
  EXPECT_THAT([&] { checkpoint(engine); },
              ThrowsMessage<std::runtime_error>(HasSubstr("Checkpoint: saving 'b_optimizer' to '" +
                                                          file + "' failed: disk full")));
  EXPECT_THAT(files_in(dir.path), ElementsAre("a_model_1.txt", "b_optimizer_1.bin"));
  ASSERT_EQ(checkpoint.saved().size(), 1u);
  EXPECT_EQ(checkpoint.saved()[0].priority, 1.0);
  try {
    checkpoint(engine);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& error) {  // the save function's own error is nested
    EXPECT_THAT([&] { std::rethrow_if_nested(error); },
                ThrowsMessage<std::runtime_error>("disk full"));
  }

  fail = false;
  write_nothing = true;
  EXPECT_THAT([&] { checkpoint(engine); },
              ThrowsMessage<std::runtime_error>(HasSubstr(
                  "the save function of 'b_optimizer' wrote no file at '" + file + ".tmp'")));
  EXPECT_THAT(files_in(dir.path), ElementsAre("a_model_1.txt", "b_optimizer_1.bin"));

  // Through an engine: the error ends the run, the files are as before.
  write_nothing = false;
  fail = true;
  IntEngine trainer = make_engine();
  trainer.on(Events::ITERATION_COMPLETED, checkpoint);
  std::vector<int> data = {1, 2, 3};
  EXPECT_THAT([&] { trainer.run(data); },
              ThrowsMessage<std::runtime_error>(HasSubstr("failed: disk full")));
  EXPECT_THAT(files_in(dir.path), ElementsAre("a_model_1.txt", "b_optimizer_1.bin"));

  fail = false;
  engine.state().iteration = 3;
  checkpoint(engine);
  EXPECT_THAT(files_in(dir.path), ElementsAre("a_model_3.txt", "b_optimizer_3.bin"));
  EXPECT_EQ(read_file(dir.path / "b_optimizer_3.bin"), "partial");
}

TEST(Checkpoint, CopiesShareTheSavedList) {
  TempDir dir("copies");
  int64_t model = 0;
  Checkpoint checkpoint({{"model", number_saver(model)}}, {.dirname = dir.path, .n_saved = 3});
  Checkpoint copy = checkpoint;
  IntEngine engine = make_engine();
  engine.state().iteration = 4;
  copy(engine);
  ASSERT_EQ(checkpoint.saved().size(), 1u);
  EXPECT_EQ(checkpoint.saved()[0].files.at("model"), dir.path / "model_4.txt");
  checkpoint(engine);  // the same file names as a kept checkpoint: skipped
  EXPECT_EQ(copy.saved().size(), 1u);
}

TEST(Checkpoint, LoadObjectsCallsEachLoaderWithItsFile) {
  Checkpoint::Item item{3.0, {{"model", "d/model_3.txt"}, {"trainer", "d/trainer_3.json"}}};
  std::vector<std::string> loaded;
  Checkpoint::load_objects(
      {{"model", [&](const fs::path& p) { loaded.push_back("model " + p.string()); }},
       {"trainer", [&](const fs::path& p) { loaded.push_back("trainer " + p.string()); }}},
      item);
  EXPECT_THAT(loaded, ElementsAre("model d/model_3.txt", "trainer d/trainer_3.json"));
  EXPECT_THAT(
      [&] {
        Checkpoint::load_objects({{"optimizer", [](const fs::path&) {}}}, item);
      },
      ThrowsMessage<std::invalid_argument>(
          HasSubstr("the checkpoint has no object 'optimizer' (it has model, trainer)")));
}

TEST(EngineState, RoundTripsThroughAJsonFile) {
  TempDir dir("engine_state");
  fs::create_directories(dir.path);
  IntEngine engine = make_engine();
  engine.state().seed = 7;
  std::vector<int> data = {1, 2, 3, 4, 5};
  engine.run(data, 2);
  const fs::path path = dir.path / "trainer.json";
  save_engine_state(engine, path);
  EXPECT_EQ(read_file(path),
            "{\"epoch\": 2, \"epoch_length\": 5, \"iteration\": 10, \"max_epochs\": 2, "
            "\"seed\": 7}\n");
  EXPECT_EQ(load_engine_state(path), engine.state_dict());
  EXPECT_THAT(files_in(dir.path), ElementsAre("trainer.json"));

  IntEngine restored = make_engine();
  load_engine_state(restored, path);
  EXPECT_EQ(restored.state_dict(), engine.state_dict());

  std::ofstream(dir.path / "spaced.json") << " {\n  \"iteration\" : 4 ,\"max_epochs\":-1 }\n";
  EXPECT_EQ(load_engine_state(dir.path / "spaced.json"),
            (std::map<std::string, int64_t>{{"iteration", 4}, {"max_epochs", -1}}));
  std::ofstream(dir.path / "empty.json") << "{}";
  EXPECT_THAT(load_engine_state(dir.path / "empty.json"), IsEmpty());

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"epoch\": 1.5}", "expected '}' at offset 11"},
      {"{\"epoch\": \"1\"}", "expected an integer for 'epoch' at offset 10"},
      {"[1]", "expected '{' at offset 0"},
      {"{\"a\": 1, \"a\": 2}", "expected no repeated key"},
      {"{\"a\": 1} x", "expected the end of the file at offset 9"},
      {"{\"a\": 1", "expected '}' at offset 7"},
  };
  for (const auto& [text, message] : bad) {
    const fs::path file = dir.path / "bad.json";
    std::ofstream(file) << text;
    EXPECT_THAT([&] { load_engine_state(file); },
                ThrowsMessage<std::runtime_error>(
                    HasSubstr("load_engine_state: '" + file.string() +
                              "' is not a flat JSON object of integers: " + message)))
        << text;
  }
  EXPECT_THAT([&] { load_engine_state(dir.path / "none.json"); },
              ThrowsMessage<std::runtime_error>(
                  HasSubstr("cannot read '" + (dir.path / "none.json").string())));
  EXPECT_THAT([&] { save_engine_state(engine, dir.path / "no_such_dir" / "x.json"); },
              ThrowsMessage<std::runtime_error>(HasSubstr("save_engine_state: cannot write '")));
}

// A loader whose order depends only on (seed, epoch), told the epoch by the engine.
class ShuffledLoader {
 public:
  ShuffledLoader(int size, uint64_t seed) : items_(size), seed_(seed) {}
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  std::vector<int>::const_iterator begin() {
    std::iota(items_.begin(), items_.end(), 0);
    std::mt19937_64 rng(seed_ * 1000 + static_cast<uint64_t>(epoch_));
    std::shuffle(items_.begin(), items_.end(), rng);
    return items_.cbegin();
  }
  std::vector<int>::const_iterator end() const { return items_.cend(); }
  size_t size() const { return items_.size(); }

 private:
  std::vector<int> items_;
  uint64_t seed_;
  int64_t epoch_ = 0;
};

// A training run over a shuffled loader whose "model" is an order-dependent sum of the
// batches; it crashes (throws) at crash_at unless that is 0.
struct ToyTraining {
  int64_t model = 0;
  int64_t crash_at = 0;
  std::vector<std::string> trace;  // "epoch.iteration:batch"
  IntEngine trainer{[this](EngineBase& e, const int& batch) {
    if (e.state().iteration == crash_at) throw std::runtime_error("crash");
    model = model * 3 % 1000003 + batch;
    trace.push_back(std::to_string(e.state().epoch) + "." + std::to_string(e.state().iteration) +
                    ":" + std::to_string(batch));
    return batch;
  }};
};

struct ResumeCase {
  FilteredEvent save_at;
  int64_t crash_at;
  int64_t resumed_from;  // the iteration of the last checkpoint before the crash
};

TEST(Checkpoint, ResumingFromACheckpointRepeatsTheUninterruptedRun) {
  ToyTraining full;
  ShuffledLoader loader(5, 42);
  full.trainer.run(loader, 4);
  ASSERT_EQ(full.trace.size(), 20u);

  const std::vector<ResumeCase> cases = {
      {Events::ITERATION_COMPLETED(every(3)), 8, 6},
      {Events::ITERATION_COMPLETED(every(4)), 14, 12},
      {Events::EPOCH_COMPLETED, 12, 10},
      {Events::EPOCH_COMPLETED(every(2)), 20, 10},
  };
  int index = 0;
  for (const ResumeCase& c : cases) {
    TempDir dir("resume" + std::to_string(index++));
    ToyTraining crashed;
    crashed.crash_at = c.crash_at;
    Checkpoint checkpoint(
        {{"model", number_saver(crashed.model)}, {"trainer", engine_state_saver(crashed.trainer)}},
        {.dirname = dir.path});
    crashed.trainer.on(c.save_at, checkpoint);
    ShuffledLoader crashed_loader(5, 42);
    EXPECT_THAT([&] { crashed.trainer.run(crashed_loader, 4); },
                ThrowsMessage<std::runtime_error>("crash"));
    const std::optional<Checkpoint::Item> last = checkpoint.last_checkpoint();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->priority, static_cast<double>(c.resumed_from));

    // A new process: fresh objects, loaded from the files of the last checkpoint.
    ToyTraining resumed;
    Checkpoint::load_objects(
        {{"model", [&](const fs::path& p) { std::ifstream(p) >> resumed.model; }},
         {"trainer", engine_state_loader(resumed.trainer)}},
        *last);
    ShuffledLoader fresh(5, 42);
    resumed.trainer.run(fresh);
    EXPECT_EQ(resumed.trace,
              std::vector<std::string>(full.trace.begin() + c.resumed_from, full.trace.end()))
        << "crash at " << c.crash_at;
    EXPECT_EQ(resumed.model, full.model) << "crash at " << c.crash_at;
    EXPECT_EQ(resumed.trainer.state().epoch, 4);
  }
}

}  // namespace
}  // namespace ignis::engine
