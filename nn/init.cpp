// nn::init (nn/init.h): PyTorch's initialisers over the seeded random fills of factory.h.
#include "nn/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"

namespace ignis::nn::init {

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  for (const char* unit : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                           "conv_transpose2d", "conv_transpose3d", "sigmoid"}) {
    if (nonlinearity == unit) return 1.0;
  }
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 0.75;
  throw ValueError("calculate_gain: unsupported nonlinearity '" + nonlinearity + "'");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  if (tensor.dim() < 2) {
    throw ShapeError("calculate_fan_in_and_fan_out: fan in and fan out can not be computed for "
                     "a tensor with fewer than 2 dimensions, got " + tensor.shape_str());
  }
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

const Tensor& uniform_(const Tensor& tensor, double a, double b, Generator* gen) {
  NoGradGuard no_grad;
  ignis::uniform_(tensor, a, b, gen);
  return tensor;
}

const Tensor& normal_(const Tensor& tensor, double mean, double std, Generator* gen) {
  NoGradGuard no_grad;
  ignis::normal_(tensor, mean, std, gen);
  return tensor;
}

const Tensor& constant_(const Tensor& tensor, double value) {
  if (!tensor.is_floating_point()) {
    throw DTypeError("constant_: expected a floating-point tensor, got " +
                     std::string(dtype_name(tensor.dtype())));
  }
  raw::fill_(tensor, value);
  tensor.bump_version();
  return tensor;
}

const Tensor& zeros_(const Tensor& tensor) { return constant_(tensor, 0.0); }
const Tensor& ones_(const Tensor& tensor) { return constant_(tensor, 1.0); }

const Tensor& xavier_uniform_(const Tensor& tensor, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return init::uniform_(tensor, -bound, bound, gen);
}

const Tensor& xavier_normal_(const Tensor& tensor, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double sigma = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return init::normal_(tensor, 0.0, sigma, gen);
}

namespace {
double kaiming_std(const Tensor& tensor, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
  if (fan == 0) {
    throw ShapeError("kaiming init: the fan of a tensor of shape " + tensor.shape_str() +
                     " is 0");
  }
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

const Tensor& kaiming_uniform_(const Tensor& tensor, double a, FanMode mode,
                               const std::string& nonlinearity, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity);
  return init::uniform_(tensor, -bound, bound, gen);
}

const Tensor& kaiming_normal_(const Tensor& tensor, double a, FanMode mode,
                              const std::string& nonlinearity, Generator* gen) {
  return init::normal_(tensor, 0.0, kaiming_std(tensor, a, mode, nonlinearity), gen);
}

}  // namespace ignis::nn::init
