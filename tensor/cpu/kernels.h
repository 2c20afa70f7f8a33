// The CPU kernels behind KernelTable (tensor/dispatch.h): one function per slot, with the
// slot's contract. Internal to tensor/: raw ops call them through the dispatch table.
#pragma once

#include "tensor/dispatch.h"

namespace ignis::cpu {

// copy_kernels.cpp
void fill(const Tensor& out, const Scalar& value);
void copy(const Tensor& dst, const Tensor& src);
// random_kernels.cpp
void random(RandomKind kind, double a, double b, PhiloxState state, const Tensor& out);
void bernoulli_tensor(const Tensor& p, PhiloxState state, const Tensor& out);
// elementwise_kernels.cpp
void unary(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
// reduce_kernels.cpp
void reduce(ReduceOp op, const Tensor& in, const Tensor& out);
void reduce_with_index(ReduceOp op, const Tensor& in, const Tensor& values,
                       const Tensor& indices);
// gemm.cpp
void gemm(const GemmArgs& args);
// index_kernels.cpp
void softmax(const Tensor& in, const Tensor& out, int64_t outer, int64_t n, int64_t inner,
             bool log);
void index_select(const Tensor& in, const Tensor& index, const Tensor& out, int64_t outer,
                  int64_t n, int64_t inner);
void gather(const Tensor& in, int64_t dim, const Tensor& index, const Tensor& out);
void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
// reduce_kernels.cpp
void reduce_strided(ReduceOp op, const Tensor& in, const Tensor& out, int64_t outer, int64_t n,
                    int64_t inner);
// conv_kernels.cpp
void unfold(const Tensor& in, const Tensor& out, const Window2d& window);
void fold(const Tensor& in, const Tensor& out, const Window2d& window);
// pool_kernels.cpp
void max_pool2d(const Tensor& in, const Tensor& values, const Tensor& indices,
                const Window2d& window);
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in,
                         const Window2d& window);
void avg_pool2d(const Tensor& in, const Tensor& out, const Window2d& window,
                bool count_include_pad);
void avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in, const Window2d& window,
                         bool count_include_pad);
// loss_kernels.cpp
void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           const CrossEntropyParams& params, const Tensor& loss,
                           const Tensor& lse, const Tensor& row_weight);
void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            const CrossEntropyParams& params, const Tensor& lse,
                            const Tensor& grad, const Tensor& dlogits);
// embedding_bag_kernels.cpp
void embedding_bag_forward(const Tensor& weight, const Tensor& index, const Tensor& bag_first,
                           bool mean, const Tensor& out);
void embedding_bag_backward(const Tensor& dout, const Tensor& bag_first, const Tensor& rows,
                            const Tensor& row_first, const Tensor& row_bag, bool mean,
                            const Tensor& dweight);

// The table of all of the above (dispatch.cpp registers it for DeviceType::CPU).
KernelTable make_cpu_kernel_table();

}  // namespace ignis::cpu
