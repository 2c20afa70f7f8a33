// Tensor factories: constant fills, ranges, identity, tensors from host values, and random
// tensors. Values are made on the CPU or by the device's fill/random kernels; never
// differentiable. Not the kernels: see cpu/copy_kernels.cpp and cpu/random_kernels.cpp.
#include "tensor/factory.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis {
namespace {

std::string str(double v) { return Scalar(v).str(); }

void check_floating(DType dtype, const char* op) {
  if (!is_floating_point(dtype)) {
    throw DTypeError(std::string(op) + ": expected a floating-point dtype, got " +
                     dtype_name(dtype));
  }
}

// Fills a fresh contiguous tensor of `shape` from the generator with the device's kernel.
Tensor random_tensor(const Shape& shape, TensorOptions options, RandomKind kind, double a, double b,
                     Generator* gen, const char* op) {
  check_floating(options.dtype, op);
  Tensor out = make_tensor(shape, options.dtype, options.device);
  const PhiloxState state = advance_generator(gen, static_cast<uint64_t>(out.numel()));
  if (out.numel() > 0) get_kernel(&KernelTable::random, out.device(), op)(kind, a, b, state, out);
  return out;
}

// Fills `t` in place: directly when contiguous, else through a contiguous temporary.
void random_fill_(const Tensor& t, RandomKind kind, double a, double b, Generator* gen,
                  const char* op) {
  check_floating(t.dtype(), op);
  const PhiloxState state = advance_generator(gen, static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0) {
    auto kernel = get_kernel(&KernelTable::random, t.device(), op);
    if (t.is_contiguous()) {
      kernel(kind, a, b, state, t);
    } else {
      Tensor tmp = make_tensor(t.sizes(), t.dtype(), t.device());
      kernel(kind, a, b, state, tmp);
      raw::copy_(t, tmp);
    }
  }
  t.bump_version();
}

// A tensor made on the host (values written through `write(T* data)`), then moved.
template <typename T, typename Write>
Tensor host_tensor(const Shape& shape, Device device, Write write) {
  Tensor host = make_tensor(shape, dtype_of<T>, Device::cpu());
  write(static_cast<T*>(host.raw_data()));
  return raw::to(host, device);
}

// A (rows, columns) tensor of T from nested lists of Src (int lists make int64 tensors).
template <typename T, typename Src>
Tensor from_rows(std::initializer_list<std::initializer_list<Src>> rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t m = n == 0 ? 0 : static_cast<int64_t>(rows.begin()->size());
  std::vector<T> values;
  values.reserve(static_cast<size_t>(n * m));
  for (const auto& row : rows) {
    if (static_cast<int64_t>(row.size()) != m) {
      throw ShapeError("tensor: rows have different lengths (" + std::to_string(m) + " and " +
                       std::to_string(row.size()) + ")");
    }
    values.insert(values.end(), row.begin(), row.end());
  }
  return from_vector<T>(values, Shape{n, m});
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions options) {
  return make_tensor(shape, options.dtype, options.device);
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1, options); }

Tensor full(const Shape& shape, const Scalar& value, TensorOptions options) {
  Tensor out = empty(shape, options);
  raw::fill_(out, value);
  return out;
}

Tensor empty_like(const Tensor& t) { return empty(t.sizes(), {t.dtype(), t.device()}); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), {t.dtype(), t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), {t.dtype(), t.device()}); }
Tensor full_like(const Tensor& t, const Scalar& value) {
  return full(t.sizes(), value, {t.dtype(), t.device()});
}

Tensor scalar_tensor(const Scalar& value, std::optional<DType> dtype, Device device) {
  return full({}, value, {dtype.value_or(value.dtype()), device});
}

Tensor arange(const Scalar& end, std::optional<TensorOptions> options) {
  return arange(0, end, 1, options);
}

Tensor arange(const Scalar& end, const TensorOptions& options) {
  return arange(0, end, 1, std::optional<TensorOptions>(options));
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              const TensorOptions& options) {
  return arange(start, end, step, std::optional<TensorOptions>(options));
}

// As PyTorch's CPU arange: the length is ceil((end - start) / step), computed in int64 for
// integer dtypes and in double otherwise; element i is start + i * step in that type.
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              std::optional<TensorOptions> options) {
  const bool all_integral =
      !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
  const TensorOptions opts = options.value_or(TensorOptions{all_integral ? kInt64 : kFloat32});
  const double xstart = start.to<double>(), xend = end.to<double>(), xstep = step.to<double>();
  if (xstep == 0) throw ValueError("arange: step must be nonzero");
  if ((xstep > 0 && xend < xstart) || (xstep < 0 && xend > xstart)) {
    throw ValueError("arange: the bounds [" + start.str() + ", " + end.str() +
                     ") are inconsistent with the sign of step " + step.str());
  }
  return visit_dtype(opts.dtype, [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      const int64_t s = start.to<int64_t>(), e = end.to<int64_t>(), st = step.to<int64_t>();
      if (st == 0) throw ValueError("arange: step " + step.str() + " truncates to 0");
      const int64_t sign = st > 0 ? 1 : -1;
      const int64_t n = std::max<int64_t>((e - s + st - sign) / st, 0);
      return host_tensor<T>({n}, opts.device, [&](T* data) {
        for (int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(s + i * st);
      });
    } else {
      const double length = std::ceil((xend - xstart) / xstep);
      if (!std::isfinite(length)) {
        throw ValueError("arange: the length of [" + start.str() + ", " + end.str() +
                         ") in steps of " + step.str() + " is not finite");
      }
      const auto n = static_cast<int64_t>(length);
      return host_tensor<T>({n}, opts.device, [&](T* data) {
        for (int64_t i = 0; i < n; ++i)
          data[i] = static_cast<T>(xstart + xstep * static_cast<double>(i));
      });
    }
  });
}

// As PyTorch's CPU linspace: step = (end - start) / (steps - 1) in the output type (double
// for integers); the first half counts up from start, the second half down from end.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  if (steps < 0) throw ValueError("linspace: steps must be >= 0, got " + std::to_string(steps));
  return visit_dtype(options.dtype, [&]<typename T>() {
    using Step = std::conditional_t<std::is_integral_v<T>, double, T>;
    return host_tensor<T>({steps}, options.device, [&](T* data) {
      if (steps == 1) data[0] = static_cast<T>(start);
      if (steps <= 1) return;
      const auto first = static_cast<Step>(static_cast<T>(start));
      const auto last = static_cast<Step>(static_cast<T>(end));
      const Step step = (last - first) / static_cast<Step>(steps - 1);
      const int64_t halfway = steps / 2;
      for (int64_t i = 0; i < steps; ++i) {
        data[i] = i < halfway ? static_cast<T>(first + step * static_cast<Step>(i))
                              : static_cast<T>(last - step * static_cast<Step>(steps - 1 - i));
      }
    });
  });
}

Tensor eye(int64_t n, std::optional<int64_t> m, TensorOptions options) {
  const int64_t cols = m.value_or(n);
  if (n < 0 || cols < 0) {
    throw ValueError("eye: sizes must be >= 0, got " + std::to_string(n) + " x " +
                     std::to_string(cols));
  }
  return visit_dtype(options.dtype, [&]<typename T>() {
    return host_tensor<T>({n, cols}, options.device, [&](T* data) {
      std::fill(data, data + n * cols, T(0));
      for (int64_t i = 0; i < std::min(n, cols); ++i) data[i * cols + i] = T(1);
    });
  });
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, std::optional<Shape> shape, Device device) {
  const Shape sizes = shape.value_or(Shape{static_cast<int64_t>(values.size())});
  if (numel_of(sizes) != static_cast<int64_t>(values.size())) {
    throw ShapeError("from_vector: " + std::to_string(values.size()) + " values do not fit shape " +
                     shape_str(sizes));
  }
  return host_tensor<T>(sizes, device,
                        [&](T* data) { std::copy(values.begin(), values.end(), data); });
}

template Tensor from_vector<bool>(const std::vector<bool>&, std::optional<Shape>, Device);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, std::optional<Shape>, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, std::optional<Shape>, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, std::optional<Shape>, Device);
template Tensor from_vector<float>(const std::vector<float>&, std::optional<Shape>, Device);
template Tensor from_vector<double>(const std::vector<double>&, std::optional<Shape>, Device);

Tensor tensor(std::initializer_list<float> values) { return from_vector<float>(values); }
Tensor tensor(std::initializer_list<double> values) { return from_vector<double>(values); }
Tensor tensor(std::initializer_list<int64_t> values) { return from_vector<int64_t>(values); }
Tensor tensor(std::initializer_list<int> values) {
  return from_vector<int64_t>(std::vector<int64_t>(values.begin(), values.end()));
}
Tensor tensor(std::initializer_list<bool> values) { return from_vector<bool>(values); }
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows) {
  return from_rows<float>(rows);
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows) {
  return from_rows<double>(rows);
}
Tensor tensor(std::initializer_list<std::initializer_list<int64_t>> rows) {
  return from_rows<int64_t>(rows);
}
Tensor tensor(std::initializer_list<std::initializer_list<int>> rows) {
  return from_rows<int64_t>(rows);
}

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_tensor(shape, options, RandomKind::Uniform, 0.0, 1.0, gen, "rand");
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_tensor(shape, options, RandomKind::Normal, 0.0, 1.0, gen, "randn");
}

// low + floor(u * (high - low)) with u a float64 uniform of [0, 1) (53 bits), clamped to
// high - 1 in case the product rounds up to the range.
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options,
               Generator* gen) {
  if (high <= low) {
    throw ValueError("randint: expected low < high, got [" + std::to_string(low) + ", " +
                     std::to_string(high) + ")");
  }
  Tensor u = random_tensor(shape, {kFloat64, Device::cpu()}, RandomKind::Uniform, 0.0, 1.0, gen,
                           "randint");
  const double range = static_cast<double>(high) - static_cast<double>(low);
  const double* src = static_cast<const double*>(u.raw_data());
  Tensor values = host_tensor<int64_t>(shape, Device::cpu(), [&](int64_t* data) {
    const int64_t n = u.numel();
    for (int64_t i = 0; i < n; ++i) {
      data[i] = std::min(high - 1, low + static_cast<int64_t>(std::floor(src[i] * range)));
    }
  });
  return raw::to(raw::to(values, options.dtype), options.device);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  check_floating(p.dtype(), "bernoulli");
  Tensor out = make_tensor(p.sizes(), p.dtype(), p.device());
  const PhiloxState state = advance_generator(gen, static_cast<uint64_t>(out.numel()));
  if (out.numel() > 0) {
    get_kernel(&KernelTable::bernoulli_tensor, p.device(), "bernoulli")(raw::contiguous(p), state,
                                                                        out);
  }
  return out;
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ValueError("bernoulli: p must be in [0, 1], got " + str(p));
  }
  const DType sample_dtype = is_floating_point(options.dtype) ? options.dtype : kFloat32;
  Tensor out = random_tensor(shape, {sample_dtype, options.device}, RandomKind::Bernoulli, p, 0.0,
                             gen, "bernoulli");
  return raw::to(out, options.dtype);
}

// NOTE: the permutation sorts indices by (w0 of Philox block offset + i, i): the index breaks
// ties between equal keys, so the result is a pure function of (seed, offset, n) that any
// device can reproduce. Computed on the host, then moved to `device`.
Tensor randperm(int64_t n, Generator* gen, Device device) {
  if (n < 0) throw ValueError("randperm: n must be >= 0, got " + std::to_string(n));
  const PhiloxState state = advance_generator(gen, static_cast<uint64_t>(n));
  std::vector<uint32_t> keys(static_cast<size_t>(n));
  const std::array<uint32_t, 2> key = {static_cast<uint32_t>(state.seed),
                                       static_cast<uint32_t>(state.seed >> 32)};
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t counter = state.offset + static_cast<uint64_t>(i);
    keys[i] = philox4x32_10(
        {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0}, key)[0];
  }
  return host_tensor<int64_t>({n}, device, [&](int64_t* data) {
    std::iota(data, data + n, int64_t{0});
    std::sort(data, data + n,
              [&](int64_t a, int64_t b) { return keys[a] != keys[b] ? keys[a] < keys[b] : a < b; });
  });
}

const Tensor& uniform_(const Tensor& t, double low, double high, Generator* gen) {
  if (!(low <= high)) {
    throw ValueError("uniform_: expected low <= high, got [" + str(low) + ", " + str(high) + ")");
  }
  random_fill_(t, RandomKind::Uniform, low, high, gen, "uniform_");
  return t;
}

const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen) {
  if (!(std >= 0.0)) throw ValueError("normal_: std must be >= 0, got " + str(std));
  random_fill_(t, RandomKind::Normal, mean, std, gen, "normal_");
  return t;
}

}  // namespace ignis
