// Raw reductions over some dims (keepdim) or over all: sum, prod, mean, amax/amin, max/min
// with indices, argmax/argmin, var/std, logsumexp, norm. Deterministic: the summation order
// depends on the shape only, never on the thread count.
#pragma once

#include <optional>
#include <utility>

#include "tensor/tensor.h"

namespace ignis {

enum class ReduceOp { Sum, Prod, Max, Min, ArgMax, ArgMin };

namespace raw {

// `dims` empty means all dims. Integer and bool inputs sum/prod to int64 (as PyTorch).
Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor prod(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);  // floating only
Tensor amax(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
// (values, int64 indices) along one dim; ties pick the first index, as PyTorch on the CPU.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Over the flattened tensor when dim is empty.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// sum((x - mean)^2) / (N - correction)
Tensor var(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);
// (sum |x|^p)^(1/p); p = inf gives max |x|.
Tensor norm(const Tensor& x, double p = 2.0, const Shape& dims = {}, bool keepdim = false);

// The output shape of reducing `dims` of `sizes` (all when empty), and the sorted, wrapped,
// de-duplicated dims; throws IndexError naming `op`.
Shape reduced_shape(const Shape& sizes, const Shape& dims, bool keepdim, const char* op);
Shape normalize_dims(const Shape& dims, int64_t ndim, const char* op);

}  // namespace raw
}  // namespace ignis
