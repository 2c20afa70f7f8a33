// Making tensors: empty, zeros, ones, full, arange, linspace, eye, from values, and random
// ones from a Generator. Not differentiable: call requires_grad_() on the result.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace ignis {

struct TensorOptions {
  DType dtype = kFloat32;
  Device device = Device::cpu();
};

Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, const Scalar& value, TensorOptions options = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, const Scalar& value);
// A 0-d tensor holding `value`, of the Scalar's own dtype unless given.
Tensor scalar_tensor(const Scalar& value, std::optional<DType> dtype = std::nullopt,
                     Device device = Device::cpu());

// [start, end) in steps of `step`. The dtype is int64 when all three are integers, else
// float32, unless options say otherwise. Throws ValueError for step 0 or a wrong sign.
Tensor arange(const Scalar& end, std::optional<TensorOptions> options = std::nullopt);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1,
              std::optional<TensorOptions> options = std::nullopt);
// The same with the options given explicitly: arange(5, {.dtype = kFloat64}).
Tensor arange(const Scalar& end, const TensorOptions& options);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              const TensorOptions& options);
// `steps` evenly spaced values from start to end inclusive (computed as PyTorch does).
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, TensorOptions options = {});

// From host values: a 1-d tensor, or one of `shape` (numel must match: ShapeError).
template <typename T>
Tensor from_vector(const std::vector<T>& values, std::optional<Shape> shape = std::nullopt,
                   Device device = Device::cpu());
// tensor({1.f, 2.f}) is float32 1-d; tensor({{1, 2}, {3, 4}}) is int64 (2, 2).
Tensor tensor(std::initializer_list<float> values);
Tensor tensor(std::initializer_list<double> values);
Tensor tensor(std::initializer_list<int64_t> values);
Tensor tensor(std::initializer_list<int> values);
Tensor tensor(std::initializer_list<bool> values);
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows);
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows);
Tensor tensor(std::initializer_list<std::initializer_list<int64_t>> rows);
Tensor tensor(std::initializer_list<std::initializer_list<int>> rows);

// ---- random (Philox, see generator.h); gen defaults to default_generator() ----
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
// Integers uniform in [low, high); dtype int64 unless given.
Tensor randint(int64_t low, int64_t high, const Shape& shape,
               TensorOptions options = {.dtype = kInt64}, Generator* gen = nullptr);
// 1 with probability p (elementwise p from a float tensor), else 0; dtype of `p`.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, TensorOptions options = {},
                 Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64), from sorting Philox keys: same on every device.
Tensor randperm(int64_t n, Generator* gen = nullptr, Device device = Device::cpu());
// In place; each bumps the version counter. Floating tensors only (DTypeError).
const Tensor& uniform_(const Tensor& t, double low = 0.0, double high = 1.0,
                       Generator* gen = nullptr);
const Tensor& normal_(const Tensor& t, double mean = 0.0, double std = 1.0,
                      Generator* gen = nullptr);

}  // namespace ignis
