// PLACEHOLDER until the elementwise kernels land.
#include "tensor/cpu/kernels.h"
namespace ignis::cpu {
void unary(UnaryOp, const UnaryParams&, const Tensor&, const Tensor&) { internal_error("unary: not built yet"); }
void binary(BinaryOp, const Tensor&, const Tensor&, const Tensor&) { internal_error("binary: not built yet"); }
void where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { internal_error("where: not built yet"); }
}  // namespace ignis::cpu
