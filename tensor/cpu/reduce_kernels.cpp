// PLACEHOLDER until the reduction kernels land.
#include "tensor/cpu/kernels.h"
namespace ignis::cpu {
void reduce(ReduceOp, const Tensor&, const Tensor&) { internal_error("reduce: not built yet"); }
void reduce_with_index(ReduceOp, const Tensor&, const Tensor&, const Tensor&) { internal_error("reduce: not built yet"); }
}  // namespace ignis::cpu
