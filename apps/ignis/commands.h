// The subcommands of the ignis program, each taking the arguments after its name and
// returning the exit status (0, or throwing: main turns every exception into one line on
// stderr and status 2). Not the flag parser (flags.h) nor the models (text_model.h).
#pragma once

#include <string>
#include <vector>

namespace ignis::cli {

// `ignis train`: trains a text classifier on CSV files (train.cpp).
int run_train(const std::vector<std::string>& args);
// `ignis predict`: writes predictions with a model saved by `ignis train --save` (predict.cpp).
int run_predict(const std::vector<std::string>& args);

}  // namespace ignis::cli
