// CUDA kernel of the gemm slot: GemmArgs (tensor/linalg.h) handed to cuBLAS as one
// strided-batched GEMM, float32 and float64. Not matmul's shape logic (tensor/linalg.cpp).
//
// cuBLAS is column-major: a row-major (rows, cols) matrix with leading dimension ld is, to
// cuBLAS, its (cols, rows) transpose with the same ld. So the row-major
//   C (m, n) = alpha op(A) op(B) + beta C
// is the column-major
//   C^T (n, m) = alpha op(B)^T op(A)^T + beta C^T,
// one call with the operands swapped and the same transpose flags. TF32 is used for float32
// only when allow_tf32() (cuda/cuda.h) is on; it is off by default.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <source_location>
#include <string>
#include <vector>

#include "cuda/cuda.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"
#include "tensor/error.h"

namespace ignis::cuda {
namespace {

std::string gemm_sizes(const GemmArgs& g) {
  return "m " + std::to_string(g.m) + ", n " + std::to_string(g.n) + ", k " +
         std::to_string(g.k) + ", batch " + std::to_string(g.batch) + ", " +
         dtype_name(g.dtype);
}

// Throws DeviceError "gemm: <call>: <cuBLAS status> for m .., n .., k .. (file:line)".
void check_cublas(cublasStatus_t status, const char* call, const GemmArgs& g,
                  std::source_location loc = std::source_location::current()) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw DeviceError(std::string("gemm: ") + call + ": " + cublasGetStatusName(status) + " (" +
                    cublasGetStatusString(status) + ") for " + gemm_sizes(g) + " (" +
                    loc.file_name() + ":" + std::to_string(loc.line()) + ")");
}

// One cuBLAS handle per device, created on first use and never destroyed (destroying it at
// exit could run after the driver has unloaded).
cublasHandle_t handle(int device, const GemmArgs& g) {
  static std::mutex mutex;
  static std::vector<cublasHandle_t> handles;
  const std::lock_guard<std::mutex> lock(mutex);
  if (handles.empty()) handles.resize(static_cast<size_t>(device_count_or_zero()), nullptr);
  check_device_index(device, "gemm");
  cublasHandle_t& h = handles[static_cast<size_t>(device)];
  if (h == nullptr) check_cublas(cublasCreate(&h), "cublasCreate", g);
  return h;
}

// The device that holds the output matrix.
int device_of(const void* ptr) {
  cudaPointerAttributes attributes{};
  check(cudaPointerGetAttributes(&attributes, ptr), "gemm: cudaPointerGetAttributes");
  if (attributes.type != cudaMemoryTypeDevice) {
    throw DeviceError("gemm: the output is not in CUDA device memory");
  }
  return attributes.device;
}

// C[b] = beta C[b] for every batch, one thread per element; beta == 0 writes zeros without
// reading C (NaN there does not survive), as the CPU kernel's scale_c.
template <typename T>
__global__ void scale_kernel(T* c, int64_t m, int64_t n, int64_t ldc, int64_t stride_c,
                             int64_t batch, T beta) {
  const int64_t total = batch * m * n;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    T& v = c[(t / (m * n)) * stride_c + ((t / n) % m) * ldc + t % n];
    v = beta == T(0) ? T(0) : beta * v;
  }
}

// The k == 0 or alpha == 0 case: no product, only C scaled by beta.
template <typename T>
void scale_c(const GemmArgs& g, cudaStream_t s) {
  constexpr int kThreads = 256;
  const int64_t total = g.batch * g.m * g.n;
  const auto blocks =
      static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, 1 << 20));
  scale_kernel<<<blocks, kThreads, 0, s>>>(static_cast<T*>(g.c), g.m, g.n, g.ldc, g.stride_c,
                                           g.batch, static_cast<T>(g.beta));
  check_launch("scale_kernel");
}

int checked_int(int64_t v, const char* what, const GemmArgs& g) {
  if (v < 0 || v > INT_MAX) {
    throw DeviceError(std::string("gemm: ") + what + " " + std::to_string(v) +
                      " exceeds cuBLAS's int range, for " + gemm_sizes(g));
  }
  return static_cast<int>(v);
}

}  // namespace

// C[b] = alpha op(A[b]) op(B[b]) + beta C[b], b < batch, all row-major (tensor/linalg.h);
// beta == 0 never reads C; k == 0 or alpha == 0 only scales C (a kernel of ours, as the CPU
// does, without calling cuBLAS). float32 (FP32 or, with allow_tf32(), TF32 tensor cores) and
// float64. Throws DeviceError for another dtype, sizes beyond int, or a cuBLAS failure.
// No epilogue: raw::linear runs the activation as a pass of its own on this device.
void gemm_cuda(const GemmArgs& g) {
  IGNIS_INTERNAL_ASSERT(g.epilogue == Activation::None);
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  cudaDataType_t type;
  cublasComputeType_t compute;
  if (g.dtype == kFloat32) {
    type = CUDA_R_32F;
    compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  } else if (g.dtype == kFloat64) {
    type = CUDA_R_64F;
    compute = CUBLAS_COMPUTE_64F;
  } else {
    throw DeviceError(std::string("gemm: no CUDA GEMM for ") + dtype_name(g.dtype) +
                      " (float32 and float64 only), for " + gemm_sizes(g));
  }
  const int device = device_of(g.c);
  DeviceGuard guard(device);
  if (g.k == 0 || g.alpha == 0.0) {
    if (g.dtype == kFloat32) {
      scale_c<float>(g, stream(device));
    } else {
      scale_c<double>(g, stream(device));
    }
    return;
  }
  cublasHandle_t h = handle(device, g);
  check_cublas(cublasSetStream(h, stream(device)), "cublasSetStream", g);
  // Scalars of the compute type, read from the host.
  const float alpha32 = static_cast<float>(g.alpha), beta32 = static_cast<float>(g.beta);
  const void* alpha = g.dtype == kFloat32 ? static_cast<const void*>(&alpha32) : &g.alpha;
  const void* beta = g.dtype == kFloat32 ? static_cast<const void*>(&beta32) : &g.beta;
  // The swapped operands of the column-major form (file comment).
  check_cublas(cublasGemmStridedBatchedEx(
                   h, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                   checked_int(g.n, "n", g), checked_int(g.m, "m", g),
                   checked_int(g.k, "k", g), alpha, g.b, type, checked_int(g.ldb, "ldb", g),
                   g.stride_b, g.a, type, checked_int(g.lda, "lda", g), g.stride_a, beta, g.c,
                   type, checked_int(g.ldc, "ldc", g), g.stride_c,
                   checked_int(g.batch, "batch", g), compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmStridedBatchedEx", g);
}

}  // namespace ignis::cuda
