// The CUDA kernels behind KernelTable (tensor/dispatch.h): one function per slot, with the
// slot's contract (see the comments there). Internal to cuda/: raw ops reach them only
// through the dispatch table that cuda/table.cpp registers. Host-callable C++ declarations,
// so plain .cpp files may include this header.
#pragma once

#include <span>

#include "tensor/dispatch.h"

namespace ignis::cuda {

// elementwise.cu
void fill_cuda(const Tensor& out, const Scalar& value);
void copy_cuda(const Tensor& dst, const Tensor& src);
void transfer_cuda(const Tensor& dst, const Tensor& src);
void unary_cuda(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out);
void binary_cuda(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where_cuda(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
// random.cu
void random_cuda(RandomKind kind, double a, double b, PhiloxState state, const Tensor& out);
void bernoulli_tensor_cuda(const Tensor& p, PhiloxState state, const Tensor& out);
// reduce.cu
void reduce_cuda(ReduceOp op, const Tensor& in, const Tensor& out);
void reduce_with_index_cuda(ReduceOp op, const Tensor& in, const Tensor& values,
                            const Tensor& indices);
void reduce_strided_cuda(ReduceOp op, const Tensor& in, const Tensor& out, int64_t outer,
                         int64_t n, int64_t inner);
// softmax.cu
void softmax_cuda(const Tensor& in, const Tensor& out, int64_t outer, int64_t n,
                  int64_t inner, bool log);
// linalg.cu
void gemm_cuda(const GemmArgs& args);
// index.cu
void index_select_cuda(const Tensor& in, const Tensor& index, const Tensor& out,
                       int64_t outer, int64_t n, int64_t inner);
void gather_cuda(const Tensor& in, int64_t dim, const Tensor& index, const Tensor& out);
void scatter_add_cuda(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
// conv.cu
void unfold_cuda(const Tensor& in, const Tensor& out, const Window2d& window);
void fold_cuda(const Tensor& in, const Tensor& out, const Window2d& window);
// pool.cu
void max_pool2d_cuda(const Tensor& in, const Tensor& values, const Tensor& indices,
                     const Window2d& window);
void max_pool2d_backward_cuda(const Tensor& grad_out, const Tensor& indices,
                              const Tensor& grad_in, const Window2d& window);
void avg_pool2d_cuda(const Tensor& in, const Tensor& out, const Window2d& window,
                     bool count_include_pad);
void avg_pool2d_backward_cuda(const Tensor& grad_out, const Tensor& grad_in,
                              const Window2d& window, bool count_include_pad);
// loss.cu
void cross_entropy_forward_cuda(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                const CrossEntropyParams& params, const Tensor& loss,
                                const Tensor& lse, const Tensor& row_weight);
void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& target,
                                 const Tensor& weight, const CrossEntropyParams& params,
                                 const Tensor& lse, const Tensor& grad, const Tensor& dlogits);
// embedding_bag.cu
void embedding_bag_forward_cuda(const Tensor& weight, const Tensor& index,
                                const Tensor& bag_first, bool mean, const Tensor& out);
void embedding_bag_backward_cuda(const Tensor& dout, const Tensor& bag_first,
                                 const Tensor& rows, const Tensor& row_first,
                                 const Tensor& row_bag, bool mean, const Tensor& dweight);
// optim.cu
void adam_step_cuda(Device device, DType dtype, const AdamStepConstants& c,
                    std::span<const AdamStepSegment> segments, bool zero_grads);
void sgd_step_cuda(Device device, DType dtype, const SGDStepConstants& c,
                   std::span<const SGDStepSegment> segments, bool zero_grads);
// cudnn_conv.cpp (compiled, and registered, only when CMake finds cuDNN)
void conv2d_forward_cuda(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& out, const Window2d& window, int64_t groups);
void conv2d_backward_data_cuda(const Tensor& dout, const Tensor& weight, const Tensor& dinput,
                               const Window2d& window, int64_t groups);
void conv2d_backward_filter_cuda(const Tensor& dout, const Tensor& x, const Tensor& dweight,
                                 const Window2d& window, int64_t groups);

// The table of all of the above (table.cpp registers it for DeviceType::CUDA).
KernelTable make_cuda_kernel_table();

}  // namespace ignis::cuda
