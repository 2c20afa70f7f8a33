// PLACEHOLDER until the GEMM lands.
#include "tensor/cpu/kernels.h"
namespace ignis::cpu {
void gemm(const GemmArgs&) { internal_error("gemm: not built yet"); }
}  // namespace ignis::cpu
