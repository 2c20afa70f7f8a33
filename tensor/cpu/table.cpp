// Assembles the CPU KernelTable from the kernels of tensor/cpu/.
#include "tensor/cpu/kernels.h"

namespace ignis::cpu {

KernelTable make_cpu_kernel_table() {
  KernelTable t;
  t.fill = fill;
  t.copy = copy;
  t.unary = unary;
  t.binary = binary;
  t.where = where;
  t.reduce = reduce;
  t.reduce_with_index = reduce_with_index;
  t.gemm = gemm;
  t.softmax = softmax;
  t.index_select = index_select;
  t.gather = gather;
  t.scatter_add = scatter_add;
  t.random = random;
  t.bernoulli_tensor = bernoulli_tensor;
  t.reduce_strided = reduce_strided;
  t.unfold = unfold;
  t.fold = fold;
  t.max_pool2d = max_pool2d;
  t.max_pool2d_backward = max_pool2d_backward;
  t.avg_pool2d = avg_pool2d;
  t.avg_pool2d_backward = avg_pool2d_backward;
  t.cross_entropy_forward = cross_entropy_forward;
  t.cross_entropy_backward = cross_entropy_backward;
  t.embedding_bag_forward = embedding_bag_forward;
  t.embedding_bag_backward = embedding_bag_backward;
  return t;
}

}  // namespace ignis::cpu
