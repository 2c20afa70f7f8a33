// PLACEHOLDER until the index kernels land.
#include "tensor/cpu/kernels.h"
namespace ignis::cpu {
void softmax(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool) { internal_error("softmax: not built yet"); }
void index_select(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t) { internal_error("index_select: not built yet"); }
void gather(const Tensor&, int64_t, const Tensor&, const Tensor&) { internal_error("gather: not built yet"); }
void scatter_add(const Tensor&, int64_t, const Tensor&, const Tensor&) { internal_error("scatter_add: not built yet"); }
}  // namespace ignis::cpu
