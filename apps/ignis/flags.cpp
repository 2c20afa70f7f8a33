// The flag parser of the ignis program (see flags.h). Not the subcommands' flag lists: those
// are in train.cpp and predict.cpp.
#include "apps/ignis/flags.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <utility>

namespace ignis::cli {

bool parse_integer(std::string_view text, int64_t& out) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return false;
  out = value;
  return true;
}

bool parse_number(std::string_view text, double& out) {
  double value = 0.0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return false;
  out = value;
  return true;
}

bool parse_switch(std::string_view text, bool& out) {
  for (std::string_view yes : {"true", "1", "yes", "on"}) {
    if (text == yes) {
      out = true;
      return true;
    }
  }
  for (std::string_view no : {"false", "0", "no", "off"}) {
    if (text == no) {
      out = false;
      return true;
    }
  }
  return false;
}

Flags::Flags(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void Flags::add(FlagSpec spec) {
  if (find(spec.name) != nullptr) internal_error("Flags::add: flag declared twice");
  entries_.push_back(Entry{.spec = spec, .value = spec.default_value, .given = false});
}

Flags::Entry* Flags::find(std::string_view name) {
  for (Entry& e : entries_) {
    if (e.spec.name == name) return &e;
  }
  return nullptr;
}

void Flags::fail(std::string_view name, const std::string& problem) const {
  throw UsageError(command_ + ": --" + std::string(name) + ": " + problem);
}

void Flags::set(Entry& entry, const std::string& value) {
  const std::string& name = entry.spec.name;
  if (entry.given) fail(name, "given twice");
  switch (entry.spec.kind) {
    case FlagKind::String:
      if (value.empty()) fail(name, "empty value");
      break;
    case FlagKind::Integer: {
      int64_t parsed = 0;
      if (!parse_integer(value, parsed)) fail(name, "expected an integer, got '" + value + "'");
      break;
    }
    case FlagKind::Number: {
      double parsed = 0.0;
      if (!parse_number(value, parsed)) fail(name, "expected a number, got '" + value + "'");
      break;
    }
    case FlagKind::Switch: {
      bool parsed = false;
      if (!parse_switch(value, parsed)) fail(name, "expected true or false, got '" + value + "'");
      break;
    }
  }
  entry.value = value;
  entry.given = true;
}

void Flags::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      throw UsageError(command_ + ": unexpected argument '" + arg + "' (flags are --name value; see " +
                       command_ + " --help)");
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    Entry* entry = find(name);
    if (entry == nullptr) {
      throw UsageError(command_ + ": unknown flag '--" + name + "' (see " + command_ + " --help)");
    }
    if (eq != std::string::npos) {
      set(*entry, arg.substr(eq + 1));
    } else if (entry->spec.kind == FlagKind::Switch) {
      set(*entry, "true");
    } else if (i + 1 >= args.size()) {
      fail(name, "missing value");
    } else {
      // NOTE: a value may itself start with "-" (--lr -1 is then rejected by the range check,
      // not mistaken for a flag), but not with "--": that is the next flag, so the value is missing.
      if (args[i + 1].compare(0, 2, "--") == 0) fail(name, "missing value");
      set(*entry, args[++i]);
    }
  }
}

const Flags::Entry& Flags::entry(std::string_view name, FlagKind kind) const {
  for (const Entry& e : entries_) {
    if (e.spec.name == name) {
      if (e.spec.kind != kind) internal_error("Flags: flag read as the wrong kind");
      return e;
    }
  }
  internal_error("Flags: flag not declared");
}

bool Flags::given(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.spec.name == name) return e.given;
  }
  internal_error("Flags::given: flag not declared");
}

const std::string& Flags::str(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.spec.name == name) return e.value;
  }
  internal_error("Flags::str: flag not declared");
}

int64_t Flags::integer(std::string_view name) const {
  int64_t value = 0;
  const Entry& e = entry(name, FlagKind::Integer);
  if (!parse_integer(e.value, value)) internal_error("Flags: bad integer default");
  return value;
}

double Flags::number(std::string_view name) const {
  double value = 0.0;
  const Entry& e = entry(name, FlagKind::Number);
  if (!parse_number(e.value, value)) internal_error("Flags: bad number default");
  return value;
}

bool Flags::on(std::string_view name) const {
  bool value = false;
  const Entry& e = entry(name, FlagKind::Switch);
  if (!parse_switch(e.value, value)) internal_error("Flags: bad switch default");
  return value;
}

std::string Flags::help() const {
  std::ostringstream out;
  out << "usage: " << command_ << " [flags]\n" << summary_ << "\n\nflags:\n";
  const std::string help_left = "  --help";
  std::vector<std::string> lefts;
  size_t width = help_left.size();
  for (const Entry& e : entries_) {
    std::string left = "  --" + e.spec.name;
    if (e.spec.kind != FlagKind::Switch) left += " " + e.spec.value_name;
    width = std::max(width, left.size());
    lefts.push_back(std::move(left));
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    const FlagSpec& spec = entries_[i].spec;
    out << lefts[i] << std::string(width + 2 - lefts[i].size(), ' ') << spec.help;
    if (!spec.default_value.empty()) out << " (default: " << spec.default_value << ")";
    out << "\n";
  }
  out << help_left << std::string(width + 2 - help_left.size(), ' ') << "show this text and exit\n";
  return out.str();
}

}  // namespace ignis::cli
