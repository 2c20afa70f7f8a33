// CsvLogger: one CSV row per epoch with the metrics of an engine, the file rewritten
// atomically after each row. Not a general CSV writer (data/ has the reader).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace ignis::engine {

class CsvLogger {
 public:
  explicit CsvLogger(std::filesystem::path path);

  // Appends the row (epoch, metrics...) and rewrites the file: header "epoch,<names>" with
  // the metric names of the first row (in name order); later rows give those columns, an
  // empty cell for a missing metric, and drop names the header does not have. Values are
  // written with the shortest text that reads back to the same double.
  // The file is written whole to "<path>.tmp" in the same directory, then renamed over path,
  // so a reader never sees half a file. Throws std::runtime_error naming the file on failure.
  void log_row(int64_t epoch, const std::map<std::string, double>& metrics);

  // log_row(engine.state().epoch, engine.state().metrics) at every `event`.
  // NOTE: the handler refers to this object: it must outlive the engine's runs.
  RemovableHandle attach(EngineBase& engine, const EventsList& event = Events::EPOCH_COMPLETED);

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> columns_;  // metric names, from the first row
  std::vector<std::string> lines_;    // the rows written so far, header first
};

}  // namespace ignis::engine
