// The command-line flag parser of the ignis program: declared flags, "--name value" and
// "--name=value", typed values checked at parse time, and the --help text. Not a general
// argument library: no short options, no positional arguments, no subcommand nesting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/error.h"

namespace ignis::cli {

// A bad command line: an unknown flag or subcommand, a missing or malformed value. The
// program prints its message on one line and exits with status 2.
class UsageError : public ValueError {
  using ValueError::ValueError;
};

enum class FlagKind { String, Integer, Number, Switch };

struct FlagSpec {
  std::string name;           // without the dashes: "lr"
  FlagKind kind = FlagKind::String;
  std::string value_name;     // shown in --help: "F", "N", "X"
  std::string default_value;  // the value when the flag is not given ("" for none)
  std::string help;
};

// The flags of one subcommand.
//   Flags flags("ignis train", "Trains a text classifier.");
//   flags.add({.name = "lr", .kind = FlagKind::Number, .value_name = "X",
//              .default_value = "0.001", .help = "learning rate"});
//   flags.parse(args);                     // throws UsageError
//   double lr = flags.number("lr");
class Flags {
 public:
  Flags(std::string command, std::string summary);

  // Declares a flag. A Switch takes no separate value: "--bigrams" is true, "--bigrams=false"
  // (or 0, no, off) false. Declaring a name twice is a bug (InternalError).
  void add(FlagSpec spec);

  // Reads "--name value", "--name=value" and "--help"/"-h". Throws UsageError, naming the
  // command and the flag, for an unknown flag, a missing value, an argument that is not a
  // flag, a flag given twice, a non-numeric value of a Number, a non-integer value of an
  // Integer, or a switch value other than true/false/1/0/yes/no/on/off.
  void parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_; }
  // "usage: <command> [flags]", the summary, then one line per flag with its default.
  std::string help() const;
  const std::string& command() const { return command_; }

  // Whether the flag was on the command line (not just defaulted).
  bool given(std::string_view name) const;
  // The flag's value as given, or its default: str() the text of a flag of any kind, the
  // others the typed value. Asking for an undeclared flag, or for a typed value of the wrong
  // kind, is a bug (InternalError).
  const std::string& str(std::string_view name) const;
  int64_t integer(std::string_view name) const;
  double number(std::string_view name) const;
  bool on(std::string_view name) const;

  // UsageError "<command>: --<name>: <problem>", for checks done after parsing (ranges).
  [[noreturn]] void fail(std::string_view name, const std::string& problem) const;

 private:
  struct Entry {
    FlagSpec spec;
    std::string value;
    bool given = false;
  };
  const Entry& entry(std::string_view name, FlagKind kind) const;
  Entry* find(std::string_view name);
  void set(Entry& entry, const std::string& value);

  std::string command_;
  std::string summary_;
  std::vector<Entry> entries_;  // in declaration order, as --help lists them
  bool help_ = false;
};

// Strict parsing of flag values: the whole text must be the value (a finite number for
// parse_number; true/false/1/0/yes/no/on/off for parse_switch). Each returns false on
// failure and then leaves `out` unchanged.
bool parse_integer(std::string_view text, int64_t& out);
bool parse_number(std::string_view text, double& out);
bool parse_switch(std::string_view text, bool& out);

}  // namespace ignis::cli
