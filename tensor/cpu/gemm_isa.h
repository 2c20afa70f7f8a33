// Which instruction set the CPU GEMM kernels use: detected once from the CPU's features,
// switchable so that tests and benchmarks can run every kernel on one machine.
// Not the GEMM itself: see cpu::gemm in tensor/cpu/kernels.h.
#pragma once

namespace ignis::cpu {

enum class GemmIsa { Portable, Avx2, Avx512 };

const char* gemm_isa_name(GemmIsa isa);  // "portable", "avx2", "avx512"
bool gemm_isa_supported(GemmIsa isa);    // the CPU can run this kernel
GemmIsa gemm_isa();                      // the kernel in use: the best supported by default
// Selects the kernel for later calls; throws ValueError if the CPU lacks it.
// NOTE: not synchronised with GEMMs running on other threads.
void set_gemm_isa(GemmIsa isa);

}  // namespace ignis::cpu
