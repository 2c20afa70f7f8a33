// CsvLogger: per-epoch metric rows, each write a whole new file renamed into place.
// Not a general CSV writer.
#include "engine/handlers/csv_logger.h"

#include <charconv>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace ignis::engine {

namespace {

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string shortest(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

}  // namespace

CsvLogger::CsvLogger(std::filesystem::path path) : path_(std::move(path)) {}

void CsvLogger::log_row(int64_t epoch, const std::map<std::string, double>& metrics) {
  if (lines_.empty()) {
    std::string header = "epoch";
    for (const auto& [name, value] : metrics) {
      columns_.push_back(name);
      header += "," + csv_field(name);
    }
    lines_.push_back(std::move(header));
  }
  std::string row = std::to_string(epoch);
  for (const std::string& name : columns_) {
    row += ",";
    auto found = metrics.find(name);
    if (found != metrics.end()) row += shortest(found->second);
  }
  lines_.push_back(std::move(row));

  std::filesystem::path temp = path_;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    for (const std::string& line : lines_) out << line << '\n';
    out.flush();
    if (!out) throw std::runtime_error("CsvLogger: cannot write '" + temp.string() + "'");
  }
  std::error_code error;
  std::filesystem::rename(temp, path_, error);
  if (error) {
    const std::string reason = error.message();
    std::filesystem::remove(temp, error);
    throw std::runtime_error("CsvLogger: cannot rename '" + temp.string() + "' to '" +
                             path_.string() + "': " + reason);
  }
}

RemovableHandle CsvLogger::attach(EngineBase& engine, const EventsList& event) {
  return engine.on(
      event, [this](EngineBase& e) { log_row(e.state().epoch, e.state().metrics); }, "CsvLogger");
}

}  // namespace ignis::engine
