// Google Benchmark of nn::functional::cross_entropy on (B, C) float32 logits with int64 class
// targets (mean reduction): the forward alone, and forward + backward, at 1 and 2 threads.
// Bytes counted are those of the logits read once (4 B C), so GB/s reads as the fraction of
// one streaming pass that a fused kernel would need; log_softmax (read and write 4 B C each)
// is the unfused kernel's floor. Not the softmax kernels' own benchmark: reduce_bench.cpp.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "autograd/grad_mode.h"
#include "nn/functional.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

// Logits (B, C) ~ N(0, 1) and targets (B) uniform in [0, C), from a fixed seed.
struct Problem {
  Tensor logits;   // (B, C) float32
  Tensor targets;  // (B) int64
};

Problem make_problem(int64_t batch, int64_t classes) {
  Generator gen(0);
  return {.logits = randn({batch, classes}, {}, &gen),
          .targets = randint(0, classes, {batch}, {.dtype = kInt64}, &gen)};
}

// Args: B, C, threads. Sets the pool size; the problem's first cross_entropy forward and
// backward run here, untimed, so that the allocator's cache is warm.
Problem setup(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(2)));
  Problem p = make_problem(state.range(0), state.range(1));
  const Tensor warm = p.logits.detach().requires_grad_();
  nn::functional::cross_entropy(warm, p.targets).backward();
  return p;
}

void report_logit_bytes(benchmark::State& state, const Tensor& logits) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(logits.nbytes()));
}

// loss = mean_b(logsumexp(x_b) - x_b[y_b]), no graph recorded.
void BM_CrossEntropyForward(benchmark::State& state) {
  const Problem p = setup(state);
  NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nn::functional::cross_entropy(p.logits, p.targets).item<float>());
  }
  report_logit_bytes(state, p.logits);
}

// The forward above with a graph, then loss.backward(): dlogits = (softmax(x) - onehot(y)) / B.
// The gradient is dropped before each iteration (as zero_grad(set_to_none) does).
void BM_CrossEntropyForwardBackward(benchmark::State& state) {
  const Problem p = setup(state);
  p.logits.requires_grad_();
  for (auto _ : state) {
    p.logits.set_grad(Tensor());
    const Tensor loss = nn::functional::cross_entropy(p.logits, p.targets);
    loss.backward();
    benchmark::DoNotOptimize(p.logits.grad().raw_data());
  }
  report_logit_bytes(state, p.logits);
}

// raw::log_softmax over the rows alone: one read and one write of the logits, what a single
// unfused kernel costs (bytes counted as above, so the ratio to the cross_entropy rows is a
// ratio of times).
void BM_LogSoftmaxRows(benchmark::State& state) {
  const Problem p = setup(state);
  for (auto _ : state) benchmark::DoNotOptimize(raw::log_softmax(p.logits, 1).raw_data());
  report_logit_bytes(state, p.logits);
}

// raw::softmax over the rows: the exponentials are stored, summed and scaled.
void BM_SoftmaxRows(benchmark::State& state) {
  const Problem p = setup(state);
  for (auto _ : state) benchmark::DoNotOptimize(raw::softmax(p.logits, 1).raw_data());
  report_logit_bytes(state, p.logits);
}

// (B, C): the Fashion-MNIST batch, a text-job-like batch, an ImageNet-sized head; 1, 2 threads.
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C", "threads"});
  for (int64_t threads : {1, 2}) {
    b->Args({128, 10, threads});
    b->Args({256, 41, threads});
    b->Args({4096, 1000, threads});
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_CrossEntropyForward)->Apply(shapes);
BENCHMARK(BM_CrossEntropyForwardBackward)->Apply(shapes);
BENCHMARK(BM_LogSoftmaxRows)->Apply(shapes);
BENCHMARK(BM_SoftmaxRows)->Apply(shapes);

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();
