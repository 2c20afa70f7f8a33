// Differentiable reductions; dims empty means all dims. The output drops the reduced dims
// (keeps them as size 1 with keepdim); bad dims throw IndexError naming the op (raw checks).
// Backward: the output's gradient broadcast back over the reduced dims.
#pragma once

#include <optional>
#include <utility>

#include "tensor/tensor.h"

namespace ignis {

Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Shape& dims = {}, bool keepdim = false);  // exact at zeros
// sum((x - mean)^2) / (N - correction); std = sqrt(var) (its backward composes).
Tensor var(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
// Gradient flows to every maximal element, split evenly (as torch.amax).
Tensor amax(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
// Values (differentiable, gradient to the chosen index) and int64 indices along `dim`.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements, 0-d
Tensor min(const Tensor& x);
// int64 indices: never require grad.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);  // log sum exp(x)
// (sum |x|^p)^(1/p); p = inf: max |x|. The gradient is 0 where the norm is 0 (as PyTorch).
Tensor norm(const Tensor& x, double p = 2.0, const Shape& dims = {}, bool keepdim = false);

}  // namespace ignis
