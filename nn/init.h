// nn::init: in-place parameter initialisers with PyTorch's formulas, drawing from a Generator
// (default_generator() when null). Not the layers' choice of initialiser: see layers.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace ignis::nn::init {

enum class FanMode { FanIn, FanOut };

// The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain: "linear",
// "conv1d/2d/3d", "conv_transpose1d/2d/3d", "sigmoid" -> 1; "tanh" -> 5/3; "relu" -> sqrt(2);
// "leaky_relu" -> sqrt(2 / (1 + a^2)), a = param (default 0.01); "selu" -> 3/4.
// Throws ValueError for any other name.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

// (fan_in, fan_out) of a weight of >= 2 dims: (size(1), size(0)) times the receptive field
// (the product of dims 2...). Throws ShapeError for fewer than 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// Each fills `tensor` in place without recording a graph and returns it. Floating tensors
// only (DTypeError).
const Tensor& uniform_(const Tensor& tensor, double a = 0.0, double b = 1.0,
                       Generator* gen = nullptr);
const Tensor& normal_(const Tensor& tensor, double mean = 0.0, double std = 1.0,
                      Generator* gen = nullptr);
const Tensor& constant_(const Tensor& tensor, double value);
const Tensor& zeros_(const Tensor& tensor);
const Tensor& ones_(const Tensor& tensor);
// U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)).
const Tensor& xavier_uniform_(const Tensor& tensor, double gain = 1.0, Generator* gen = nullptr);
// N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out)).
const Tensor& xavier_normal_(const Tensor& tensor, double gain = 1.0, Generator* gen = nullptr);
// U(-b, b), b = sqrt(3) gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).
const Tensor& kaiming_uniform_(const Tensor& tensor, double a = 0.0,
                               FanMode mode = FanMode::FanIn,
                               const std::string& nonlinearity = "leaky_relu",
                               Generator* gen = nullptr);
// N(0, s^2), s = gain / sqrt(fan).
const Tensor& kaiming_normal_(const Tensor& tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                              const std::string& nonlinearity = "leaky_relu",
                              Generator* gen = nullptr);

}  // namespace ignis::nn::init
