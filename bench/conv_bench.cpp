// Google Benchmark suite of conv2d on the CPU: forward, backward to the input and backward to
// the weight (and bias) through raw::conv2d / raw::conv2d_backward on the Fashion-MNIST CNN's
// two convolutions at batch 128, plus unfold / fold in GB/s. Reports GFLOP/s (2 N O K L per
// pass). Not the PyTorch side: bench/conv_torch.py times the same shapes and prints ratios.
//
// The thread count is ignis's (IGNIS_NUM_THREADS); rates are per second of process CPU time
// (all threads), the steadier measure on a shared machine.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "tensor/conv.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"

namespace {

using ignis::Tensor;

// One convolution: x (N, C, H, W), weight (O, C, k, k), stride 1, padding k / 2.
struct ConvShape {
  const char* name;
  int64_t N, C, H, W, O, k;
  int64_t K() const { return C * k * k; }
  double flops() const { return 2.0 * static_cast<double>(N * O * K() * H * W); }
  std::array<int64_t, 2> padding() const { return {k / 2, k / 2}; }
};

// The CNN of `ignis train-images --model cnn`: conv 1->32 on 28x28, conv 32->64 on 14x14.
const std::vector<ConvShape>& shapes() {
  static const std::vector<ConvShape> s{{"conv1_1x28x28_to_32", 128, 1, 28, 28, 32, 3},
                                        {"conv2_32x14x14_to_64", 128, 32, 14, 14, 64, 3}};
  return s;
}

struct Operands {
  Tensor x, weight, bias, dout;  // (N, C, H, W), (O, C, k, k), (O), (N, O, H, W)
  explicit Operands(const ConvShape& s)
      : x(ignis::randn({s.N, s.C, s.H, s.W})),
        weight(ignis::randn({s.O, s.C, s.k, s.k})),
        bias(ignis::randn({s.O})),
        dout(ignis::randn({s.N, s.O, s.H, s.W})) {}
};

void set_counters(benchmark::State& state, double per_iteration, const char* unit) {
  state.counters[unit] = benchmark::Counter(
      per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.SetLabel(std::to_string(ignis::get_num_threads()) + " thread(s)");
}

enum class Pass { Forward, BackwardInput, BackwardWeight };

void bm_conv(benchmark::State& state, const ConvShape& s, Pass pass) {
  const Operands op(s);
  for (auto _ : state) {
    if (pass == Pass::Forward) {
      benchmark::DoNotOptimize(
          ignis::raw::conv2d(op.x, op.weight, op.bias, {1, 1}, s.padding()));
    } else {
      const bool input = pass == Pass::BackwardInput;
      benchmark::DoNotOptimize(ignis::raw::conv2d_backward(
          op.dout, op.x, op.weight, {1, 1}, s.padding(), {1, 1}, 1, input, !input, !input));
    }
  }
  set_counters(state, s.flops(), "GFLOP/s");
}

// unfold: reads the image once, writes k^2 columns per pixel; fold the other way round.
void bm_unfold(benchmark::State& state, const ConvShape& s, bool fold) {
  const Operands op(s);
  const ignis::Window2d w{.kernel_size = {s.k, s.k}, .padding = s.padding()};
  const Tensor cols = ignis::raw::unfold(op.x, w);
  for (auto _ : state) {
    if (fold) {
      benchmark::DoNotOptimize(ignis::raw::fold(cols, {s.H, s.W}, w));
    } else {
      benchmark::DoNotOptimize(ignis::raw::unfold(op.x, w));
    }
  }
  set_counters(state, 4.0 * static_cast<double>(cols.numel() + op.x.numel()), "GB/s");
}

}  // namespace

int main(int argc, char** argv) {
  for (const ConvShape& s : shapes()) {
    const std::string n = s.name;
    benchmark::RegisterBenchmark(("conv_forward/" + n).c_str(), bm_conv, s, Pass::Forward)
        ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("conv_backward_input/" + n).c_str(), bm_conv, s,
                                 Pass::BackwardInput)
        ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("conv_backward_weight/" + n).c_str(), bm_conv, s,
                                 Pass::BackwardWeight)
        ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("unfold/" + n).c_str(), bm_unfold, s, false)
        ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("fold/" + n).c_str(), bm_unfold, s, true)
        ->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
