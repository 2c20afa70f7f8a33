// Raw (non-differentiable) views: new sizes/strides/offset over the same storage, no copy.
// autograd/ wraps each in a differentiable op; kernels and autograd backward code use these.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ignis::raw {

// Each throws ShapeError / IndexError naming the op and the shapes involved.
Tensor view(const Tensor& t, const Shape& shape);      // needs compatible strides
Tensor reshape(const Tensor& t, const Shape& shape);   // view when possible, else a copy
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor squeeze(const Tensor& t);
Tensor squeeze(const Tensor& t, int64_t dim);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor permute(const Tensor& t, const Shape& dims);
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& t);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
// Python-style slice t[start:end:step] on `dim`; start/end are clamped, negatives wrap.
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& t, int64_t dim, int64_t index);
Tensor expand(const Tensor& t, const Shape& shape);    // -1 keeps a size
Tensor broadcast_to(const Tensor& t, const Shape& shape);
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split_with_sizes(const Tensor& t, const Shape& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);
Tensor alias(const Tensor& t);  // a new TensorImpl over the same data, without autograd state

}  // namespace ignis::raw
