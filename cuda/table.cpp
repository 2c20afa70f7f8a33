// Assembles the CUDA KernelTable from the kernels of cuda/ and registers it for
// DeviceType::CUDA at load time (ignis_cuda is linked whole, so this initialiser runs).
// The conv2d slots are filled only in a build with cuDNN; otherwise conv2d runs on the
// unfold, fold and gemm slots.
#include "cuda/kernels.h"

namespace ignis::cuda {
namespace {

struct Registrar {
  Registrar() { register_kernels(DeviceType::CUDA, make_cuda_kernel_table()); }
};
const Registrar registrar;

}  // namespace

KernelTable make_cuda_kernel_table() {
  KernelTable t;
  t.fill = fill_cuda;
  t.copy = copy_cuda;
  t.transfer = transfer_cuda;
  t.unary = unary_cuda;
  t.binary = binary_cuda;
  t.where = where_cuda;
  t.reduce = reduce_cuda;
  t.reduce_with_index = reduce_with_index_cuda;
  t.gemm = gemm_cuda;
  t.softmax = softmax_cuda;
  t.index_select = index_select_cuda;
  t.gather = gather_cuda;
  t.scatter_add = scatter_add_cuda;
  t.random = random_cuda;
  t.bernoulli_tensor = bernoulli_tensor_cuda;
  t.reduce_strided = reduce_strided_cuda;
  t.unfold = unfold_cuda;
  t.fold = fold_cuda;
  t.max_pool2d = max_pool2d_cuda;
  t.max_pool2d_backward = max_pool2d_backward_cuda;
  t.avg_pool2d = avg_pool2d_cuda;
  t.avg_pool2d_backward = avg_pool2d_backward_cuda;
  t.cross_entropy_forward = cross_entropy_forward_cuda;
  t.cross_entropy_backward = cross_entropy_backward_cuda;
  t.embedding_bag_forward = embedding_bag_forward_cuda;
  t.embedding_bag_backward = embedding_bag_backward_cuda;
  t.adam_step = adam_step_cuda;
  t.sgd_step = sgd_step_cuda;
#ifdef IGNIS_HAVE_CUDNN
  t.conv2d_forward = conv2d_forward_cuda;
  t.conv2d_backward_data = conv2d_backward_data_cuda;
  t.conv2d_backward_filter = conv2d_backward_filter_cuda;
#endif
  return t;
}

}  // namespace ignis::cuda
