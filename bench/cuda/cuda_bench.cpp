// GPU benchmark of the CUDA backend's GEMM, elementwise, copy, reduction and softmax kernels,
// and of a training step's fused Adam, cross-entropy and embedding_bag: ignis matmul against a
// direct cublasSgemm on the same buffers (the dispatch overhead), and the memory-bound kernels
// in GB/s against the device's peak bandwidth (queried at run time).
// A plain program (no Google Benchmark, which GPU machines may lack); built only with the
// CUDA backend. Prints one line per measurement.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "cuda/cuda.h"
#include "cuda/pinned.h"
#include "cuda/runtime.h"
#include "nn/functional.h"
#include "optim/adam.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

// Milliseconds per call of `work`, timed with events on ignis's stream of device 0 over
// `iters` calls after 3 warm-up calls.
double time_ms(const std::function<void()>& work, int iters) {
  const cudaStream_t s = cuda::stream(0);
  for (int i = 0; i < 3; ++i) work();
  cudaEvent_t start, stop;
  cuda::check(cudaEventCreate(&start), "cudaEventCreate");
  cuda::check(cudaEventCreate(&stop), "cudaEventCreate");
  cuda::check(cudaEventRecord(start, s), "cudaEventRecord");
  for (int i = 0; i < iters; ++i) work();
  cuda::check(cudaEventRecord(stop, s), "cudaEventRecord");
  cuda::check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0.0f;
  cuda::check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cuda::check(cudaEventDestroy(start), "cudaEventDestroy");
  cuda::check(cudaEventDestroy(stop), "cudaEventDestroy");
  return ms / iters;
}

Tensor random_on_gpu(const Shape& shape) {
  Generator gen(0);
  return randn(shape, {}, &gen).cuda();
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw DeviceError(std::string(what) + ": " + cublasGetStatusName(status));
  }
}

// C (m, n) = A (m, k) @ B (k, n), float32: ignis matmul and cublasSgemm on the same data.
void bench_sgemm(cublasHandle_t handle, int64_t m, int64_t n, int64_t k) {
  const Tensor a = random_on_gpu({m, k}), b = random_on_gpu({k, n});
  const Tensor c = zeros({m, n}, {.device = Device::cuda()});
  const int iters = m * n * k > (int64_t{1} << 30) ? 20 : 100;
  const double ignis_ms = time_ms([&] { raw::matmul(a, b); }, iters);
  const float one = 1.0f, zero = 0.0f;
  // Row-major C = A B is column-major C^T = B^T A^T.
  const double cublas_ms = time_ms(
      [&] {
        check_cublas(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n),
                                 static_cast<int>(m), static_cast<int>(k), &one,
                                 b.data_ptr<float>(), static_cast<int>(n), a.data_ptr<float>(),
                                 static_cast<int>(k), &zero, c.data_ptr<float>(),
                                 static_cast<int>(n)),
                     "cublasSgemm");
      },
      iters);
  const double flop = 2.0 * static_cast<double>(m) * static_cast<double>(n) * k;
  std::printf("sgemm %5lld x %5lld x %5lld  ignis %8.1f GFLOP/s  cublas %8.1f GFLOP/s  "
              "ignis/cublas time %.3f\n",
              static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
              flop / ignis_ms * 1e-6, flop / cublas_ms * 1e-6, ignis_ms / cublas_ms);
}

// One memory-bound op: GB/s from the bytes it must move, and the fraction of the peak.
void bench_bandwidth(const char* name, double bytes, const std::function<void()>& work,
                     double peak_gbps) {
  const double ms = time_ms(work, 50);
  const double gbps = bytes / ms * 1e-6;
  std::printf("%-40s %9.1f us  %8.1f GB/s  %5.1f%% of peak\n", name, ms * 1e3, gbps,
              peak_gbps > 0 ? 100.0 * gbps / peak_gbps : 0.0);
}

// The map kernel's paths (cuda/map.cuh) and the copies, called through the dispatch table
// into preallocated outputs, so each line is one kernel's traffic: bytes read + written.
// 2^26-element operands (256 MiB of float32) keep every line far beyond the L2 cache.
void bench_elementwise(double peak) {
  const Device gpu = Device::cuda();
  const int64_t n = int64_t{1} << 26;
  const int64_t side = int64_t{1} << 13;  // (side, side) = n elements
  const double f32 = 4.0 * static_cast<double>(n);  // bytes of one float32 operand
  const Tensor x = random_on_gpu({n}), y = random_on_gpu({n});
  const Tensor out = empty({n}, {.device = gpu});
  const Tensor out64 = empty({n}, {.dtype = kFloat64, .device = gpu});
  const Tensor out_bool = empty({n}, {.dtype = kBool, .device = gpu});
  auto fill = get_kernel(&KernelTable::fill, gpu, "cuda_bench");
  auto copy = get_kernel(&KernelTable::copy, gpu, "cuda_bench");
  auto transfer = get_kernel(&KernelTable::transfer, gpu, "cuda_bench");
  auto unary = get_kernel(&KernelTable::unary, gpu, "cuda_bench");
  auto binary = get_kernel(&KernelTable::binary, gpu, "cuda_bench");

  bench_bandwidth("fill float32 (write only)", f32, [&] { fill(out, Scalar(1.0)); }, peak);
  bench_bandwidth("copy float32", 2 * f32, [&] { copy(out, x); }, peak);
  bench_bandwidth("copy float32 -> float64", 3 * f32, [&] { copy(out64, x); }, peak);
  // A transposed (side, side) view into a contiguous one: the strided path.
  const Tensor square = raw::view(x, {side, side});
  const Tensor transposed = raw::transpose(square, 0, 1);
  const Tensor out_square = raw::view(out, {side, side});
  bench_bandwidth("copy of a transposed (8192, 8192)", 2 * f32,
                  [&] { copy(out_square, transposed); }, peak);
  bench_bandwidth("add float32 (16-byte vector path)", 3 * f32,
                  [&] { binary(BinaryOp::Add, x, y, out); }, peak);
  // One element in: no operand is 16-byte aligned, so the same add runs element by element.
  const Tensor x1 = raw::narrow(x, 0, 1, n - 1), y1 = raw::narrow(y, 0, 1, n - 1);
  const Tensor out1 = raw::narrow(out, 0, 1, n - 1);
  bench_bandwidth("add float32, unaligned (scalar path)", 3 * f32,
                  [&] { binary(BinaryOp::Add, x1, y1, out1); }, peak);
  // (side, side) + a row broadcast to it (0 strides): the indexed path.
  const Tensor bias = raw::expand(random_on_gpu({side}), {side, side});
  bench_bandwidth("add a broadcast row to (8192, 8192)", 2 * f32,
                  [&] { binary(BinaryOp::Add, square, bias, out_square); }, peak);
  bench_bandwidth("exp float32", 2 * f32,
                  [&] { unary(UnaryOp::Exp, UnaryParams{}, x, out); }, peak);
  bench_bandwidth("gelu (tanh) float32", 2 * f32,
                  [&] { unary(UnaryOp::GeluTanh, UnaryParams{}, x, out); }, peak);
  bench_bandwidth("gt float32 -> bool", 2.25 * f32,
                  [&] { binary(BinaryOp::Gt, x, y, out_bool); }, peak);
  const Tensor x64 = random_on_gpu({n / 2}).to(kFloat64);
  const Tensor y64 = random_on_gpu({n / 2}).to(kFloat64);
  const Tensor out64_half = empty({n / 2}, {.dtype = kFloat64, .device = gpu});
  bench_bandwidth("mul float64 (2^25 elements)", 3 * f32,
                  [&] { binary(BinaryOp::Mul, x64, y64, out64_half); }, peak);
  // Through the raw op: argument checks, promotion and the caching allocator's block.
  bench_bandwidth("raw::add float32 (op, allocating)", 3 * f32, [&] { raw::add(x, y); }, peak);
  // Host <-> device over the bus (not device memory): the fraction is of the same peak, so
  // read it as GB/s only.
  const Tensor host = empty({n});
  bench_bandwidth("host -> device float32 (pageable)", f32, [&] { transfer(out, host); }, peak);
  bench_bandwidth("device -> host float32 (pageable)", f32, [&] { transfer(host, x); }, peak);
  // From page-locked memory (cuda/pinned.h, what the loaders' batches use on a GPU): DMA.
  const Tensor pinned = cuda::empty_pinned({n});
  bench_bandwidth("host -> device float32 (pinned)", f32, [&] { transfer(out, pinned); }, peak);
  bench_bandwidth("device -> host float32 (pinned)", f32, [&] { transfer(pinned, x); }, peak);
}

// ---- the training step's fused kernels, through the API a training loop calls ----

// One optimizer.step() of optim::Adam (the adam_step slot: a few launches for all parameters)
// over the default text model's parameter set: a (81040, 64) embedding and a (41, 64) + (41)
// linear layer, 5.19M float32 parameters. Each step reads p, g, m, v and writes p, m, v:
// 28 bytes per parameter.
void bench_adam(double peak) {
  std::vector<Tensor> params;
  int64_t numel = 0;
  for (const Shape& shape : {Shape{81040, 64}, Shape{41, 64}, Shape{41}}) {
    Tensor p = random_on_gpu(shape);
    p.requires_grad_();
    p.set_grad(random_on_gpu(shape));
    numel += p.numel();
    params.push_back(p);
  }
  optim::Adam adam(params, {.lr = 1e-3, .weight_decay = 1e-5});
  bench_bandwidth("adam step, 5.19M float32 params", 28.0 * static_cast<double>(numel),
                  [&] { adam.step(); }, peak);
}

// nn::functional::cross_entropy (mean) of (R, C) logits, then backward: the fused forward
// and backward kernels plus autograd, as a training step runs them. Traffic: the forward reads
// the logits, the backward reads them again and writes dlogits: 3 R C float32 (the targets and
// the per-row values are negligible). NOTE: the forward checks device targets on the host
// (tensor/loss.h), so each call also waits for a small device -> host copy.
void bench_cross_entropy(const char* label, int64_t rows, int64_t classes, double peak) {
  const Tensor logits = random_on_gpu({rows, classes});
  logits.requires_grad_();
  Generator gen(1);
  const Tensor target = randint(0, classes, {rows}, {.dtype = kInt64}, &gen).cuda();
  bench_bandwidth(label, 12.0 * static_cast<double>(rows * classes),
                  [&] {
                    logits.set_grad(Tensor());
                    nn::functional::cross_entropy(logits, target).backward();
                  },
                  peak);
}

// nn::functional::embedding_bag (mean) forward, then backward of the weight: V = 60000 rows of
// D = 64, B = 256 bags of 20 indices (N = 5120), the text model's first layer. Traffic, the
// least a fused kernel moves: gather N D and write B D float32; backward read dout (B D),
// write the dense weight gradient (V D) and add N D rows into it; the indices twice (N int64).
void bench_embedding_bag(double peak) {
  const int64_t vocab = 60000, dim = 64, bags = 256, per_bag = 20;
  const int64_t n = bags * per_bag;
  const Tensor weight = random_on_gpu({vocab, dim});
  weight.requires_grad_();
  Generator gen(2);
  const Tensor indices = randint(0, vocab, {n}, {.dtype = kInt64}, &gen).cuda();
  const Tensor offsets = arange(0, n, per_bag, TensorOptions{.dtype = kInt64}).cuda();
  const double bytes = 4.0 * static_cast<double>(2 * n * dim + 2 * bags * dim + vocab * dim) +
                       16.0 * static_cast<double>(n);
  bench_bandwidth("embedding_bag mean fwd+bwd V=60000", bytes,
                  [&] {
                    weight.set_grad(Tensor());
                    nn::functional::embedding_bag(indices, weight, offsets).sum().backward();
                  },
                  peak);
}

int run() {
  if (!cuda::is_available()) {
    std::printf("cuda_bench: no CUDA device, nothing measured\n");
    return 0;
  }
  const cuda::DeviceInfo info = cuda::device_info(0);
  std::printf("device: %s (sm_%d%d, %d SMs), peak bandwidth %.0f GB/s, TF32 %s\n",
              info.name.c_str(), info.major, info.minor, info.multiprocessors,
              info.peak_bandwidth_gbps, cuda::allow_tf32() ? "on" : "off");

  cublasHandle_t handle;
  check_cublas(cublasCreate(&handle), "cublasCreate");
  check_cublas(cublasSetStream(handle, cuda::stream(0)), "cublasSetStream");
  for (const int64_t size : {256, 1024, 2048, 4096}) bench_sgemm(handle, size, size, size);
  bench_sgemm(handle, 64, 3072, 768);  // a batch of 64 rows through a wide linear layer
  bench_sgemm(handle, 64, 4, 64);      // the text model's output layer: launch-bound
  check_cublas(cublasDestroy(handle), "cublasDestroy");

  const double peak = info.peak_bandwidth_gbps;
  bench_elementwise(peak);
  const Tensor big = random_on_gpu({int64_t{1} << 26});  // 256 MiB
  const Tensor mat = random_on_gpu({8192, 8192});        // 256 MiB
  const double mat_bytes = static_cast<double>(mat.nbytes());
  bench_bandwidth("sum of 2^26 float32", static_cast<double>(big.nbytes()),
                  [&] { raw::sum(big); }, peak);
  bench_bandwidth("row sums of (8192, 8192)", mat_bytes, [&] { raw::sum(mat, {1}); }, peak);
  bench_bandwidth("column sums of (8192, 8192)", mat_bytes, [&] { raw::sum(mat, {0}); }, peak);
  bench_bandwidth("argmax of rows of (8192, 8192)", mat_bytes, [&] { raw::argmax(mat, 1); },
                  peak);
  bench_bandwidth("softmax of rows of (8192, 8192)", 2 * mat_bytes,
                  [&] { raw::softmax(mat, 1); }, peak);
  bench_bandwidth("log_softmax over dim 0 of (8192, 8192)", 2 * mat_bytes,
                  [&] { raw::log_softmax(mat, 0); }, peak);

  bench_adam(peak);
  bench_cross_entropy("cross_entropy fwd+bwd (256, 41)", 256, 41, peak);
  bench_cross_entropy("cross_entropy fwd+bwd (4096, 1000)", 4096, 1000, peak);
  bench_embedding_bag(peak);
  return 0;
}

}  // namespace
}  // namespace ignis

int main() {
  try {
    return ignis::run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_bench: %s\n", e.what());
    return 1;
  }
}
