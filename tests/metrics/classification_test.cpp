// Tests of the classification metrics (Accuracy, TopKCategoricalAccuracy, Precision, Recall,
// Fbeta, BalancedAccuracy, ConfusionMatrix) against sklearn's values in
// tests/reference/metrics_fixtures.json (made by make_metric_fixtures.py), fed batch by batch
// and through an engine; their errors, reset, copies and devices. Not the Metric base's tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "metrics/accuracy.h"
#include "tensor/backend.h"
#include "metrics/balanced_accuracy.h"
#include "metrics/confusion_matrix.h"
#include "metrics/precision_recall.h"
#include "support/compare.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/io/json.h"
#include "tensor/storage.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using Batch = std::pair<Tensor, Tensor>;  // (y_pred, y)

// sklearn and ignis compute in float64 from the same counts; only summation orders differ.
constexpr test::Tolerance kTol{.rtol = 0.0, .atol = 1e-12};

// ---- the fixture file ----

void collect(const json::Value& v, size_t depth, Shape& shape, std::vector<double>& values,
             bool& all_int) {
  if (!v.is_array()) {
    values.push_back(v.as_double());
    all_int = all_int && v.is_int();
    return;
  }
  const auto& items = v.as_array();
  const auto n = static_cast<int64_t>(items.size());
  if (shape.size() == depth) shape.push_back(n);
  if (shape[depth] != n) throw ParseError("metrics fixtures: a ragged array");
  for (const json::Value& item : items) collect(item, depth + 1, shape, values, all_int);
}

// A number or nested arrays of numbers as a CPU tensor: int64 if every value is an integer
// (class indices, counts), else float64.
Tensor to_tensor(const json::Value& v) {
  Shape shape;
  std::vector<double> values;
  bool all_int = true;
  collect(v, 0, shape, values, all_int);
  if (!all_int) return from_vector(values, shape);
  return from_vector(std::vector<int64_t>(values.begin(), values.end()), shape);
}

struct Case {
  std::string name;
  std::string type;  // "binary", "multiclass", "multilabel"
  int64_t num_classes = 0;
  std::vector<Batch> batches;
  json::Value results;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> loaded = [] {
    const std::string path = std::string(IGNIS_TEST_DATA_DIR) + "/reference/metrics_fixtures.json";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IOError("cannot open " + path);
    std::stringstream text;
    text << in.rdbuf();
    const json::Value doc = json::parse(text.str(), {.source = path});
    std::vector<Case> out;
    for (const json::Value& c : doc.find("cases")->as_array()) {
      Case one{c.find("name")->as_string(), c.find("type")->as_string(),
               c.find("num_classes")->as_int(), {}, *c.find("results")};
      for (const json::Value& b : c.find("batches")->as_array()) {
        one.batches.emplace_back(to_tensor(*b.find("y_pred")), to_tensor(*b.find("y")));
      }
      out.push_back(std::move(one));
    }
    return out;
  }();
  return loaded;
}

const Case& find_case(const std::string& name) {
  for (const Case& c : cases()) {
    if (c.name == name) return c;
  }
  throw ValueError("metrics fixtures: no case " + name);
}

Average parse_average(const std::string& name) {
  for (Average a : {Average::None, Average::Micro, Average::Macro, Average::Weighted,
                    Average::Samples}) {
    if (name == average_name(a)) return a;
  }
  throw ValueError("metrics fixtures: unknown average " + name);
}

ConfusionMatrix::Average parse_normalization(const std::string& name) {
  if (name == "none") return ConfusionMatrix::Average::None;
  if (name == "true") return ConfusionMatrix::Average::Recall;
  if (name == "pred") return ConfusionMatrix::Average::Precision;
  if (name == "all") return ConfusionMatrix::Average::Samples;
  throw ValueError("metrics fixtures: unknown normalization " + name);
}

// One metric, configured as one sklearn result of a case was computed.
struct Check {
  std::string label;  // "Fbeta(2.0, macro)"
  std::function<std::unique_ptr<Metric>()> make;
  Tensor want;        // float64: a 0-d value, per-class values or a matrix
};

std::vector<Check> checks_for(const Case& c) {
  const bool multilabel = c.type == "multilabel";
  const json::Value& r = c.results;
  auto want = [](const json::Value& v) { return raw::to(to_tensor(v), kFloat64); };
  std::vector<Check> out;
  out.push_back({"Accuracy",
                 [=]() -> std::unique_ptr<Metric> {
                   return std::make_unique<Accuracy>(AccuracyOptions{.is_multilabel = multilabel});
                 },
                 want(*r.find("accuracy"))});
  if (const json::Value* top_k = r.find("top_k")) {
    for (const auto& [k, v] : top_k->as_object()) {
      const int64_t kk = std::stoll(k);
      out.push_back({"TopKCategoricalAccuracy(" + k + ")",
                     [=]() -> std::unique_ptr<Metric> {
                       return std::make_unique<TopKCategoricalAccuracy>(kk);
                     },
                     want(v)});
    }
  }
  for (const char* which : {"precision", "recall"}) {
    const bool precision = std::string(which) == "precision";
    for (const auto& [name, v] : r.find(which)->as_object()) {
      const PrecisionRecallOptions options{.average = parse_average(name),
                                           .is_multilabel = multilabel};
      out.push_back({std::string(precision ? "Precision(" : "Recall(") + name + ")",
                     [=]() -> std::unique_ptr<Metric> {
                       if (precision) return std::make_unique<Precision>(options);
                       return std::make_unique<Recall>(options);
                     },
                     want(v)});
    }
  }
  for (const auto& [beta, per_average] : r.find("fbeta")->as_object()) {
    for (const auto& [name, v] : per_average.as_object()) {
      const double b = std::stod(beta);
      const FbetaOptions options{.average = parse_average(name), .is_multilabel = multilabel};
      out.push_back({"Fbeta(" + beta + ", " + name + ")",
                     [=]() -> std::unique_ptr<Metric> {
                       return std::make_unique<Fbeta>(b, options);
                     },
                     want(v)});
    }
  }
  if (const json::Value* v = r.find("balanced_accuracy")) {
    out.push_back({"BalancedAccuracy",
                   []() -> std::unique_ptr<Metric> { return std::make_unique<BalancedAccuracy>(); },
                   want(*v)});
    out.push_back({"BalancedAccuracy(adjusted)",
                   []() -> std::unique_ptr<Metric> {
                     return std::make_unique<BalancedAccuracy>(
                         BalancedAccuracyOptions{.adjusted = true});
                   },
                   want(*r.find("balanced_accuracy_adjusted"))});
  }
  if (const json::Value* cm = r.find("confusion_matrix")) {
    for (const auto& [name, v] : cm->as_object()) {
      const ConfusionMatrix::Average average = parse_normalization(name);
      const int64_t classes = c.num_classes;
      out.push_back({"ConfusionMatrix(" + name + ")",
                     [=]() -> std::unique_ptr<Metric> {
                       return std::make_unique<ConfusionMatrix>(classes, average);
                     },
                     want(v)});
    }
  }
  return out;
}

Tensor run_batches(Metric& metric, const std::vector<Batch>& batches) {
  metric.reset();
  for (const auto& [y_pred, y] : batches) metric.update(y_pred, y);
  return metric.compute();
}

// The fixture's checks on the batches of `case_name`, each through update() one batch at a
// time; the results must be float64 (int64 for a confusion matrix's counts) on the CPU.
void expect_fixture_by_batches(const std::string& case_name) {
  const Case& c = find_case(case_name);
  for (const Check& check : checks_for(c)) {
    SCOPED_TRACE(case_name + ": " + check.label);
    const std::unique_ptr<Metric> metric = check.make();
    const Tensor got = run_batches(*metric, c.batches);
    const bool counts = check.label == "ConfusionMatrix(none)";
    EXPECT_EQ(got.dtype(), counts ? kInt64 : kFloat64);
    EXPECT_TRUE(got.is_cpu());
    EXPECT_TRUE(test::tensors_close(check.label, raw::to(got, kFloat64), check.want, kTol));
  }
}

engine::Engine<Batch, engine::Output<Tensor>> make_evaluator() {
  return engine::Engine<Batch, engine::Output<Tensor>>(
      [](engine::EngineBase&, const Batch& b) {
        return engine::Output<Tensor>{.y_pred = b.first, .y = b.second};
      });
}

// The same checks with every metric attached to one evaluator, read from state().metrics
// ("name" for a single value, "name/0", "name/1", ... for a tensor, flattened).
void expect_fixture_by_engine(const std::string& case_name) {
  const Case& c = find_case(case_name);
  const std::vector<Check> checks = checks_for(c);
  std::vector<std::unique_ptr<Metric>> metrics;
  auto evaluator = make_evaluator();
  for (const Check& check : checks) {
    metrics.push_back(check.make());
    metrics.back()->attach(evaluator, check.label);
  }
  // Two epochs: the second must not see the first one's batches.
  evaluator.run(c.batches, 2);
  const std::map<std::string, double>& got = evaluator.state().metrics;
  for (const Check& check : checks) {
    SCOPED_TRACE(case_name + ": " + check.label);
    const std::vector<double> want = check.want.to_vector<double>();
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string key =
          want.size() == 1 ? check.label : check.label + "/" + std::to_string(i);
      ASSERT_TRUE(got.contains(key)) << key;
      EXPECT_NEAR(got.at(key), want[i], kTol.atol) << key;
    }
  }
}

TEST(ClassificationFixture, MulticlassByBatches) { expect_fixture_by_batches("multiclass"); }
TEST(ClassificationFixture, MulticlassByEngine) { expect_fixture_by_engine("multiclass"); }
TEST(ClassificationFixture, Multiclass3dByBatches) { expect_fixture_by_batches("multiclass_3d"); }
TEST(ClassificationFixture, Multiclass3dByEngine) { expect_fixture_by_engine("multiclass_3d"); }
TEST(ClassificationFixture, BinaryByBatches) { expect_fixture_by_batches("binary"); }
TEST(ClassificationFixture, BinaryByEngine) { expect_fixture_by_engine("binary"); }
TEST(ClassificationFixture, MultilabelByBatches) { expect_fixture_by_batches("multilabel"); }
TEST(ClassificationFixture, MultilabelByEngine) { expect_fixture_by_engine("multilabel"); }

TEST(ClassificationFixture, EveryCaseIsTested) {
  std::vector<std::string> names;
  for (const Case& c : cases()) names.push_back(c.name);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("multiclass", "multiclass_3d", "binary",
                                                     "multilabel"));
  // 1 accuracy + 4 top-k + 4 x 2 precision/recall + 3 x 4 fbeta + 2 balanced + 4 matrices.
  EXPECT_EQ(checks_for(find_case("multiclass")).size(), 31u);
}

TEST(ClassificationFixture, AttachedTemporaryMatchesSklearn) {
  const Case& c = find_case("multiclass");
  auto evaluator = make_evaluator();
  Accuracy().attach(evaluator, "accuracy");
  BalancedAccuracy().attach(evaluator, "balanced_accuracy");
  Precision({.average = Average::Macro}).attach(evaluator, "precision");
  evaluator.run(c.batches);
  const auto& m = evaluator.state().metrics;
  EXPECT_NEAR(m.at("accuracy"), c.results.find("accuracy")->as_double(), kTol.atol);
  EXPECT_NEAR(m.at("balanced_accuracy"), c.results.find("balanced_accuracy")->as_double(),
              kTol.atol);
  EXPECT_NEAR(m.at("precision"),
              c.results.find("precision")->find("macro")->as_double(), kTol.atol);
}

// Binary scores as (B, 1) with targets (B,) or (B, 1) are the same binary input as (B,).
TEST(ClassificationInput, BinaryColumnShapes) {
  const Case& c = find_case("binary");
  const double accuracy = c.results.find("accuracy")->as_double();
  const double precision = c.results.find("precision")->find("none")->as_double();
  for (bool column_target : {false, true}) {
    std::vector<Batch> batches;
    for (const auto& [y_pred, y] : c.batches) {
      batches.emplace_back(raw::unsqueeze(y_pred, 1), column_target ? raw::unsqueeze(y, 1) : y);
    }
    Accuracy acc;
    Precision prec;
    EXPECT_NEAR(run_batches(acc, batches).item<double>(), accuracy, kTol.atol);
    const Tensor p = run_batches(prec, batches);
    EXPECT_EQ(p.dim(), 0);
    EXPECT_NEAR(p.item<double>(), precision, kTol.atol);
  }
}

TEST(ClassificationInput, FloatScoresAndNarrowTargets) {
  // float32 scores and int32 targets give the same classes as float64 and int64.
  const Case& c = find_case("multiclass");
  std::vector<Batch> batches;
  for (const auto& [y_pred, y] : c.batches) {
    batches.emplace_back(raw::to(y_pred, kFloat32), raw::to(y, kInt32));
  }
  Recall recall({.average = Average::Weighted});
  EXPECT_NEAR(run_batches(recall, batches).item<double>(),
              c.results.find("recall")->find("weighted")->as_double(), kTol.atol);
}

TEST(ClassificationInput, Threshold) {
  const Tensor y_pred = tensor({0.2, 0.6, 0.8, 0.75, 0.5});
  const Tensor y = tensor({0, 1, 1, 0, 0});
  Accuracy half;
  half.update(y_pred, y);
  EXPECT_DOUBLE_EQ(half.compute().item<double>(), 0.8);  // 0.5 itself is class 0
  Accuracy high({.threshold = 0.7});
  high.update(y_pred, y);
  EXPECT_DOUBLE_EQ(high.compute().item<double>(), 0.6);
  // Logits: threshold 0.
  Accuracy logits({.threshold = 0.0});
  logits.update(tensor({-1.0, 2.0, 0.5, -0.1, -3.0}), y);
  EXPECT_DOUBLE_EQ(logits.compute().item<double>(), 1.0);
}

TEST(ClassificationInput, MultilabelThresholdAndBoolTargets) {
  const Tensor y_pred = tensor({{0.9, 0.1, 0.6}, {0.2, 0.8, 0.3}});
  const Tensor y = tensor({true, false, true, false, true, true});
  Accuracy accuracy({.is_multilabel = true});
  accuracy.update(y_pred, raw::reshape(y, {2, 3}));
  EXPECT_DOUBLE_EQ(accuracy.compute().item<double>(), 0.5);
  Recall recall({.is_multilabel = true});
  recall.update(y_pred, raw::reshape(y, {2, 3}));
  EXPECT_TRUE(test::tensors_close("recall", recall.compute(), tensor({1.0, 1.0, 0.5}), kTol));
}

// sklearn's tie rule: among equal scores the higher class index ranks first.
TEST(ClassificationInput, TopKTies) {
  const Tensor scores = tensor({{1.0, 2.0, 2.0, 0.0}, {1.0, 2.0, 2.0, 0.0}, {3.0, 3.0, 3.0, 3.0}});
  TopKCategoricalAccuracy top1(1);
  top1.update(scores, tensor({1, 2, 3}));
  EXPECT_DOUBLE_EQ(top1.compute().item<double>(), 2.0 / 3.0);
  TopKCategoricalAccuracy top2(2);
  top2.update(scores, tensor({1, 2, 0}));
  EXPECT_DOUBLE_EQ(top2.compute().item<double>(), 2.0 / 3.0);
}

TEST(ClassificationInput, ConfusionMatrixIgnoresTargetsOutOfRange) {
  ConfusionMatrix cm(3);
  cm.update(tensor({{0.9, 0.1, 0.0}, {0.1, 0.9, 0.0}, {0.0, 0.1, 0.9}, {0.9, 0.0, 0.1}}),
            tensor({0, 2, 255, -1}));
  const Tensor want = tensor({{1, 0, 0}, {0, 0, 0}, {0, 1, 0}});
  EXPECT_EQ(cm.compute().to_vector<int64_t>(), want.to_vector<int64_t>());
}

TEST(ClassificationInput, ConfusionMatrixAfterAnEmptyBatch) {
  ConfusionMatrix cm(3, ConfusionMatrix::Average::Recall);
  cm.update(zeros({0, 3}, {.dtype = kFloat64}), zeros({0}, {.dtype = kInt64}));
  cm.update(tensor({{0.1, 0.7, 0.2}, {0.8, 0.1, 0.1}}), tensor({1, 1}));
  EXPECT_TRUE(test::tensors_close(
      "cm", cm.compute(), tensor({{0.0, 0.0, 0.0}, {0.5, 0.5, 0.0}, {0.0, 0.0, 0.0}}), kTol));
}

TEST(ClassificationInput, RequiresGradInputRecordsNothing) {
  const Tensor y_pred = tensor({{0.2, 0.8}, {0.6, 0.4}}).requires_grad_();
  Precision precision;
  precision.update(y_pred, tensor({1, 1}));
  const Tensor p = precision.compute();
  EXPECT_FALSE(p.requires_grad());
  EXPECT_TRUE(test::tensors_close("precision", p, tensor({0.0, 1.0}), kTol));
}

TEST(ClassificationInput, EmptyBatchCountsNothing) {
  Accuracy accuracy;
  accuracy.update(zeros({0, 4}), zeros({0}, {.dtype = kInt64}));
  EXPECT_THROW(accuracy.compute(), NotComputableError);
  accuracy.update(tensor({{0.0, 1.0, 0.0, 0.0}}), tensor({1}));
  EXPECT_DOUBLE_EQ(accuracy.compute().item<double>(), 1.0);
}

// ---- errors ----

TEST(ClassificationErrors, Shapes) {
  const Tensor labels8 = zeros({8}, {.dtype = kInt64});
  EXPECT_THAT([&] { Accuracy().update(zeros({8, 5}), zeros({7}, {.dtype = kInt64})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("Accuracy: y_pred (8, 5) and y (7,) have different batch sizes")));
  EXPECT_THAT([&] { Precision().update(zeros({8, 5, 2, 2}), labels8); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("Precision: y_pred (8, 5, 2, 2) and y (8,) fit no input type")));
  EXPECT_THAT([&] { Recall().update(zeros({8, 5, 3}), zeros({8, 4}, {.dtype = kInt64})); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "Recall: y_pred (8, 5, 3) and y (8, 4) differ after the class dim")));
  EXPECT_THAT([&] { Accuracy({.is_multilabel = true}).update(zeros({8}), zeros({8})); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "Accuracy: multilabel input is y_pred and y of shape (B, C, ...), got "
                  "y_pred (8,) and y (8,)")));
  EXPECT_THAT([&] { Accuracy().update(scalar_tensor(1.0), scalar_tensor(1.0)); },
              ThrowsMessage<ShapeError>(HasSubstr("need a batch dimension")));
  EXPECT_THAT([&] { TopKCategoricalAccuracy(2).update(zeros({8}), labels8); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "TopKCategoricalAccuracy: expects multiclass input, y_pred (B, C, ...) "
                  "scores with C > 1 and y (B, ...) class indices, got y_pred (8,) and y (8,)")));
  EXPECT_THAT([&] { ConfusionMatrix(5).update(zeros({8, 4}), labels8); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "ConfusionMatrix: y_pred (8, 4) is multiclass input with 4 classes, but "
                  "num_classes is 5")));
  EXPECT_THAT([&] { BalancedAccuracy({.num_classes = 3}).update(zeros({8}), labels8); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "BalancedAccuracy: y_pred (8,) is binary input with 2 classes, but "
                  "num_classes is 3")));
}

TEST(ClassificationErrors, TypesAndValues) {
  EXPECT_THAT([&] { Accuracy().update(zeros({8, 5}), zeros({8})); },
              ThrowsMessage<DTypeError>(HasSubstr(
                  "Accuracy: multiclass targets must be integer class indices, got y float32")));
  EXPECT_THAT([&] { Accuracy().update(zeros({8, 5})); },
              ThrowsMessage<ValueError>(
                  HasSubstr("Accuracy: update needs y_pred and y, got an undefined y")));
  EXPECT_THAT([&] { Precision({.average = Average::Samples}); },
              ThrowsMessage<ValueError>(HasSubstr(
                  "Precision: average samples needs multilabel input (is_multilabel = true)")));
  EXPECT_THAT([&] { Fbeta(0.0); },
              ThrowsMessage<ValueError>(HasSubstr("Fbeta: beta must be finite and positive")));
  EXPECT_THAT([&] { TopKCategoricalAccuracy(0); },
              ThrowsMessage<ValueError>(
                  HasSubstr("TopKCategoricalAccuracy: k must be at least 1, got 0")));
  EXPECT_THAT([&] { ConfusionMatrix(1); },
              ThrowsMessage<ValueError>(
                  HasSubstr("ConfusionMatrix: num_classes must be at least 2, got 1")));
}

TEST(ClassificationErrors, InputChangesBetweenBatches) {
  Accuracy accuracy;
  accuracy.update(zeros({4, 5}), zeros({4}, {.dtype = kInt64}));
  EXPECT_THAT([&] { accuracy.update(zeros({4}), zeros({4})); },
              ThrowsMessage<ValueError>(HasSubstr(
                  "Accuracy: the input type changed from multiclass to binary")));
  EXPECT_THAT([&] { accuracy.update(zeros({4, 4}), zeros({4}, {.dtype = kInt64})); },
              ThrowsMessage<ValueError>(
                  HasSubstr("Accuracy: the number of classes changed from 5 to 4")));
  // A rejected batch changes nothing; reset() accepts any input again.
  EXPECT_DOUBLE_EQ(accuracy.compute().item<double>(), 1.0);
  accuracy.reset();
  accuracy.update(tensor({0.9}), tensor({0}));
  EXPECT_DOUBLE_EQ(accuracy.compute().item<double>(), 0.0);
}

TEST(ClassificationErrors, InvalidTargetsReportedByCompute) {
  Precision precision;
  precision.update(zeros({3, 5}), tensor({0, 7, -1}));
  EXPECT_THAT([&] { precision.compute(); },
              ThrowsMessage<ValueError>(HasSubstr(
                  "Precision: 2 targets seen since reset() are not class indices in [0, 5)")));
  Accuracy binary;
  binary.update(tensor({0.2, 0.9}), tensor({0.0, 2.0}));
  EXPECT_THAT([&] { binary.compute(); },
              ThrowsMessage<ValueError>(
                  HasSubstr("Accuracy: 1 targets seen since reset() are not 0 or 1")));
  binary.reset();
  binary.update(tensor({0.2, 0.9}), tensor({0.0, 1.0}));
  EXPECT_DOUBLE_EQ(binary.compute().item<double>(), 1.0);
}

TEST(ClassificationErrors, DifferentDevices) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor y_pred = zeros({4, 3}, {.device = Device::cuda()});
  EXPECT_THAT([&] { Accuracy().update(y_pred, zeros({4}, {.dtype = kInt64})); },
              ThrowsMessage<DeviceError>(
                  HasSubstr("Accuracy: y_pred is on cuda:0 but y is on cpu")));
}

// Every metric, before any update and after reset(), names itself in NotComputableError.
TEST(ClassificationErrors, NotComputable) {
  const std::vector<std::pair<std::string, std::shared_ptr<Metric>>> all = {
      {"Accuracy", std::make_shared<Accuracy>()},
      {"TopKCategoricalAccuracy", std::make_shared<TopKCategoricalAccuracy>(2)},
      {"Precision", std::make_shared<Precision>()},
      {"Recall", std::make_shared<Recall>()},
      {"Fbeta", std::make_shared<Fbeta>(1.0)},
      {"BalancedAccuracy", std::make_shared<BalancedAccuracy>()},
      {"ConfusionMatrix", std::make_shared<ConfusionMatrix>(3)},
  };
  for (const auto& [name, metric] : all) {
    SCOPED_TRACE(name);
    EXPECT_EQ(metric->type_name(), name);
    const std::string message = name + " must have at least one example before it can be computed";
    EXPECT_THAT([&] { metric->compute(); }, ThrowsMessage<NotComputableError>(HasSubstr(message)));
    metric->update(zeros({0, 3}, {.dtype = kFloat64}), zeros({0}, {.dtype = kInt64}));
    EXPECT_THAT([&] { metric->compute(); }, ThrowsMessage<NotComputableError>(HasSubstr(message)));
    metric->update(tensor({{0.1, 0.7, 0.2}}), tensor({1}));
    EXPECT_NO_THROW(metric->compute());
    metric->reset();
    EXPECT_THAT([&] { metric->compute(); }, ThrowsMessage<NotComputableError>(HasSubstr(message)));
  }
}

// ---- life cycle ----

TEST(ClassificationLifeCycle, ResetForgetsEarlierBatches) {
  const Case& c = find_case("multiclass");
  const Case& other = find_case("multiclass_3d");
  for (const Check& check : checks_for(c)) {
    SCOPED_TRACE(check.label);
    if (check.label.starts_with("ConfusionMatrix")) continue;  // 4 classes there, 6 here
    const std::unique_ptr<Metric> metric = check.make();
    for (const auto& [y_pred, y] : other.batches) metric->update(y_pred, y);
    const Tensor got = run_batches(*metric, c.batches);  // resets first
    EXPECT_TRUE(test::tensors_close(check.label, raw::to(got, kFloat64), check.want, kTol));
  }
}

TEST(ClassificationLifeCycle, CloneKeepsItsOwnCounts) {
  const Case& c = find_case("multiclass");
  Fbeta original(2.0, {.average = Average::Weighted});
  original.update(c.batches[0].first, c.batches[0].second);
  const double first = original.compute().item<double>();
  const std::unique_ptr<Metric> copy = original.clone();
  for (size_t i = 1; i < c.batches.size(); ++i) {
    copy->update(c.batches[i].first, c.batches[i].second);
  }
  EXPECT_DOUBLE_EQ(original.compute().item<double>(), first);
  EXPECT_NEAR(copy->compute().item<double>(),
              c.results.find("fbeta")->find("2.0")->find("weighted")->as_double(), kTol.atol);
}

// ---- devices ----

class ClassificationDevice : public ::testing::TestWithParam<DeviceType> {};

// Each metric keeps its counts and returns its result on the input's device, with the same
// values as on the CPU.
TEST_P(ClassificationDevice, ResultsOnTheInputDevice) {
  const Device device{GetParam(), 0};
  if (device.is_cuda() && !cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (const char* name : {"multiclass", "binary", "multilabel"}) {
    const Case& c = find_case(name);
    std::vector<Batch> batches;
    for (const auto& [y_pred, y] : c.batches) {
      batches.emplace_back(raw::to(y_pred, device), raw::to(y, device));
    }
    for (const Check& check : checks_for(c)) {
      SCOPED_TRACE(std::string(name) + ": " + check.label);
      const std::unique_ptr<Metric> metric = check.make();
      const Tensor got = run_batches(*metric, batches);
      EXPECT_EQ(got.device(), device);
      EXPECT_TRUE(test::tensors_close(check.label, raw::to(raw::to(got, Device::cpu()), kFloat64),
                                      check.want, kTol));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, ClassificationDevice,
                         ::testing::Values(DeviceType::CPU, DeviceType::CUDA),
                         [](const auto& info) {
                           return std::string(info.param == DeviceType::CPU ? "cpu" : "cuda");
                         });

}  // namespace
}  // namespace ignis::metrics
