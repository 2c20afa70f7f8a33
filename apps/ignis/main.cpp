// The entry point of the ignis program: picks the subcommand and turns every error into one
// line on stderr and exit status 2. Not the subcommands themselves: train.cpp, predict.cpp.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "apps/ignis/commands.h"
#include "apps/ignis/flags.h"
#include "apps/ignis/train_images.h"

namespace {

constexpr std::string_view kUsage =
    "usage: ignis <command> [flags]\n"
    "A deep-learning stack in C++: trains and runs text and image classifiers.\n"
    "\n"
    "commands:\n"
    "  train         train a text classifier (with no flags: on the embedded default dataset)\n"
    "  predict       write predictions for a CSV file with a model saved by `ignis train --save`\n"
    "  train-images  train an image classifier (mlp or cnn) on MNIST-format IDX files\n"
    "\n"
    "Run `ignis <command> --help` for the flags of a command.\n";

// One line: messages from deeper layers may hold newlines (a JSON excerpt, a CSV field).
std::string one_line(std::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

int dispatch(const std::vector<std::string>& args) {
  if (args.empty()) {
    throw ignis::cli::UsageError("missing command (see ignis --help)");
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "train") return ignis::cli::run_train(rest);
  if (command == "predict") return ignis::cli::run_predict(rest);
  if (command == "train-images") return ignis::cli::run_train_images(rest);
  throw ignis::cli::UsageError("unknown command '" + command +
                               "' (expected train, predict or train-images; see ignis --help)");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return dispatch(args);
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "ignis: error: " << one_line(e.what()) << std::endl;
  } catch (...) {
    std::cout.flush();
    std::cerr << "ignis: error: unknown exception" << std::endl;
  }
  return 2;
}
