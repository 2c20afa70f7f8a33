// Google Benchmark of 2-d max pooling on the Fashion-MNIST CNN's shapes (2x2 windows, stride
// 2, on (128, 32, 28, 28) and (128, 64, 14, 14) float32): the forward and backward slots in
// GB/s, a training pass (forward + backward through autograd), and, as the baseline, the
// composition nn::functional used before pooling had its own kernels. Not a correctness test.
//
// Args: shape (0: conv1's output, 1: conv2's), threads. bench/pool_torch.py runs the same
// cases through PyTorch and interleaves both for ratios.
#include <benchmark/benchmark.h>

#include <limits>

#include "autograd/indexing.h"
#include "autograd/math.h"
#include "autograd/pool.h"
#include "tensor/conv.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/pool.h"
#include "tensor/reduce.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

constexpr Window2d kWindow{.kernel_size = {2, 2}, .stride = {2, 2}};

Shape input_shape(int64_t which) {
  return which == 0 ? Shape{128, 32, 28, 28} : Shape{128, 64, 14, 14};
}

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {}, &gen);
}

// Bytes one forward moves: reads x (4 per pixel), writes values (4) and indices (8) per
// window; one backward reads dout and indices and writes dx: the same count.
int64_t pass_bytes(const Shape& x) {
  const int64_t pixels = numel_of(x);
  return pixels * 4 + pixels / 4 * 12;
}

void set_up(benchmark::State& state) { set_num_threads(static_cast<int>(state.range(1))); }

void BM_MaxPool2dForward(benchmark::State& state) {
  set_up(state);
  const Shape shape = input_shape(state.range(0));
  const Tensor x = random_tensor(shape, 1);
  for (auto _ : state) benchmark::DoNotOptimize(raw::max_pool2d(x, kWindow).first.raw_data());
  state.SetBytesProcessed(state.iterations() * pass_bytes(shape));
}

void BM_MaxPool2dBackward(benchmark::State& state) {
  set_up(state);
  const Shape shape = input_shape(state.range(0));
  const Tensor x = random_tensor(shape, 1);
  const Tensor indices = raw::max_pool2d(x, kWindow).second;
  const Tensor dout = random_tensor(indices.sizes(), 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        raw::max_pool2d_backward(dout, indices, {shape[2], shape[3]}, kWindow).raw_data());
  }
  state.SetBytesProcessed(state.iterations() * pass_bytes(shape));
}

// Forward and backward through autograd, as in training: max_pool2d(x).backward(dout).
void BM_MaxPool2dTrain(benchmark::State& state) {
  set_up(state);
  const Shape shape = input_shape(state.range(0));
  const Tensor x = random_tensor(shape, 1).requires_grad_();
  const Tensor dout = random_tensor({shape[0], shape[1], shape[2] / 2, shape[3] / 2}, 2);
  for (auto _ : state) {
    max_pool2d(x, kWindow).backward(dout);
    benchmark::DoNotOptimize(x.grad().raw_data());
    x.set_grad(Tensor{});
  }
  state.SetBytesProcessed(state.iterations() * 2 * pass_bytes(shape));
}

// The baseline: max_pool2d as nn::functional composed it before (a -inf padded copy,
// unfold, argmax over each window, and two gathers), forward and backward.
Tensor composed_max_pool2d(const Tensor& x) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t oh = H / 2, ow = W / 2;
  Tensor padded = full({N * C, 1, H, W}, -std::numeric_limits<double>::infinity(),
                       {.dtype = x.dtype()});
  raw::copy_(padded, raw::reshape(x, {N * C, 1, H, W}));
  Tensor where_max = raw::argmax(raw::unfold(padded, kWindow), 1, true);
  Tensor flat_map = raw::reshape(arange(H * W, TensorOptions{.dtype = kInt64}), {1, 1, H, W});
  Tensor window_index = raw::expand(raw::unfold(flat_map, kWindow), {N * C, -1, -1});
  Tensor index = raw::reshape(raw::gather(window_index, 1, where_max), {N, C, oh * ow});
  return gather(x.reshape({N, C, H * W}), 2, index).view({N, C, oh, ow});
}

void BM_MaxPool2dTrainComposed(benchmark::State& state) {
  set_up(state);
  const Shape shape = input_shape(state.range(0));
  const Tensor x = random_tensor(shape, 1).requires_grad_();
  const Tensor dout = random_tensor({shape[0], shape[1], shape[2] / 2, shape[3] / 2}, 2);
  for (auto _ : state) {
    composed_max_pool2d(x).backward(dout);
    benchmark::DoNotOptimize(x.grad().raw_data());
    x.set_grad(Tensor{});
  }
  state.SetBytesProcessed(state.iterations() * 2 * pass_bytes(shape));
}

void cases(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "threads"});
  for (const int64_t shape : {0, 1}) {
    for (const int64_t threads : {1, 2}) b->Args({shape, threads});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_MaxPool2dForward)->Apply(cases);
BENCHMARK(BM_MaxPool2dBackward)->Apply(cases);
BENCHMARK(BM_MaxPool2dTrain)->Apply(cases);
BENCHMARK(BM_MaxPool2dTrainComposed)->Apply(cases);

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();
