// The GEMM shapes both GEMM benchmarks run: square sizes, and the products of a
// 784-512-256-10 MLP on batches of 128 (forward, and the two backward products of each layer).
// Not a benchmark itself: see gemm_bench.cpp and gemm_vs_openblas.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ignis::bench {

// C (m, n) = op(A) (m, k) @ op(B) (k, n), row-major.
struct GemmShape {
  std::string name;
  bool trans_a, trans_b;
  int64_t m, n, k;
};

inline std::vector<GemmShape> gemm_shapes() {
  std::vector<GemmShape> shapes;
  for (int64_t s : {64, 128, 256, 512, 1024, 2048})
    shapes.push_back({"square_" + std::to_string(s), false, false, s, s, s});
  constexpr int64_t kBatch = 128;
  const int64_t layers[][2] = {{784, 512}, {512, 256}, {256, 10}};  // (in, out)
  for (const auto& [in, out] : layers) {
    const std::string io = std::to_string(in) + "x" + std::to_string(out);
    // Y (batch, out) = X (batch, in) @ W^T, W (out, in)
    shapes.push_back({"mlp_fwd_" + io, false, true, kBatch, out, in});
    // dX (batch, in) = dY (batch, out) @ W
    shapes.push_back({"mlp_dx_" + io, false, false, kBatch, in, out});
    // dW (out, in) = dY^T (out, batch) @ X
    shapes.push_back({"mlp_dw_" + io, true, false, out, in, kBatch});
  }
  return shapes;
}

}  // namespace ignis::bench
