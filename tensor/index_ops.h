// Raw indexing and joining: index_select, gather, scatter_add, embedding, one_hot, cat,
// stack, and softmax / log_softmax (numerically stable: max subtracted first).
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ignis::raw {

// Each validates indices (IndexError naming the op, the bad index and the size).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: 1-d int
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // as torch.gather
// out = copy of x; out[index[i][j]][j] += src[i][j] (dim 0), etc.; as torch.scatter_add.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
void scatter_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// weight (num_embeddings, dim) rows picked by int indices of any shape -> (*indices, dim).
Tensor embedding(const Tensor& weight, const Tensor& indices);
// int64 (*indices, num_classes); num_classes < 0 means max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace ignis::raw
