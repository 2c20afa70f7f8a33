// CPU-vs-CUDA parity of nn::functional::embedding_bag, forward and weight gradient: the fused
// sum and mean slots (cuda/embedding_bag.cu) give the CPU's bits, since both devices add the
// same values in the same order from 0 and divide once, and the same bits on every run; the
// composed max mode agrees within rounding. Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/backward.h"
#include "nn/functional.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/dispatch.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using nn::EmbeddingBagMode;
using test::normal;

class CudaEmbeddingBag : public test::CudaTest {};

// One call's bags: a 1-d input with offsets, or a 2-d input (offsets empty).
struct Bags {
  std::string name;
  Tensor input;
  std::vector<int64_t> offsets;
  bool include_last_offset;
  std::optional<int64_t> padding_idx;
};

Bags bags(std::string name, Tensor input, std::vector<int64_t> offsets = {},
          bool include_last_offset = false, std::optional<int64_t> padding_idx = std::nullopt) {
  return {std::move(name), std::move(input), std::move(offsets), include_last_offset,
          padding_idx};
}

// V = 50 rows, at most 8 bags. Indices repeat within and across bags; some bags are empty (at
// the start, in the middle, at the end) or hold only the padding row.
std::vector<Bags> bag_cases() {
  const Tensor flat =
      from_vector(std::vector<int64_t>{3, 7, 3, 3, 49, 0, 12, 7, 7, 7, 25, 3, 0, 44, 12, 1, 1});
  const int64_t n = flat.numel();
  return {
      bags("offsets", flat, {0, 0, 3, 4, 4, 9, 15, n}),
      bags("include_last_offset", flat, {0, 2, 2, 10, n}, true),
      bags("padding_idx", flat, {0, 3, 7, 10, 12, 14}, false, 7),
      bags("negative_padding_idx", flat, {0, 8, 9, 9}, false, -1),
      bags("2d", flat.narrow(0, 0, 16).view({4, 4})),
      bags("2d_padding_idx", flat.narrow(0, 0, 15).view({5, 3}), {}, false, 3),
  };
}

struct Result {
  Tensor out, dweight;  // on the CPU
};

// out = embedding_bag(weight) and d sum(out * dout) / dweight on `device`. With `misaligned`
// the weight is a view one element into its storage (no 16-byte loads on the GPU) and the
// gradient is taken through the view.
Result run(const Bags& c, EmbeddingBagMode mode, const Tensor& weight0, const Tensor& dout0,
           Device device, bool misaligned = false) {
  const int64_t V = weight0.size(0), D = weight0.size(1);
  Tensor leaf, weight;
  if (misaligned) {
    leaf = cat({zeros({1}, {.dtype = weight0.dtype()}), weight0.reshape({-1})}).to(device);
    leaf.requires_grad_();
    weight = leaf.narrow(0, 1, V * D).view({V, D});
  } else {
    leaf = weight0.to(device).requires_grad_();
    weight = leaf;
  }
  const Tensor offsets = c.offsets.empty() ? Tensor() : from_vector(c.offsets).to(device);
  const Tensor out = F::embedding_bag(c.input.to(device), weight, offsets, mode, {},
                                      c.include_last_offset, c.padding_idx);
  const Tensor dout = dout0.narrow(0, 0, out.size(0)).to(device);
  Tensor dweight = autograd::grad({out}, {leaf}, {dout})[0];
  if (misaligned) dweight = dweight.narrow(0, 1, V * D).view({V, D});
  return {out.detach().cpu(), dweight.cpu()};
}

TEST_F(CudaEmbeddingBag, SumAndMeanGiveTheCpuBits) {
  ASSERT_NE(kernel_table(DeviceType::CUDA).embedding_bag_forward, nullptr);
  ASSERT_NE(kernel_table(DeviceType::CUDA).embedding_bag_backward, nullptr);
  // D = 64 and 256: 16-byte packs, 1 and 2 per lane; 7: single elements; 130: single floats
  // but double pairs.
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const int64_t D : {64, 7, 130, 256}) {
      const Tensor weight = normal({50, D}, dtype, 1);
      const Tensor dout = normal({8, D}, dtype, 2);
      for (const EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean}) {
        for (const Bags& c : bag_cases()) {
          const std::string what = c.name + " " + nn::embedding_bag_mode_name(mode) + " " +
                                   dtype_name(dtype) + " D=" + std::to_string(D);
          const Result want = run(c, mode, weight, dout, Device::cpu());
          const Result got = run(c, mode, weight, dout, Device::cuda());
          EXPECT_TRUE(test::tensors_close("out " + what, got.out, want.out, {}));
          EXPECT_TRUE(test::tensors_close("dweight " + what, got.dweight, want.dweight, {}));
        }
      }
    }
  }
}

TEST_F(CudaEmbeddingBag, MisalignedWeightGivesTheCpuBits) {
  const Bags c = bag_cases()[0];
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor weight = normal({50, 64}, dtype, 3);
    const Tensor dout = normal({8, 64}, dtype, 4);
    for (const EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean}) {
      const Result want = run(c, mode, weight, dout, Device::cpu());
      const Result got = run(c, mode, weight, dout, Device::cuda(), /*misaligned=*/true);
      EXPECT_TRUE(test::tensors_close("out", got.out, want.out, {}));
      EXPECT_TRUE(test::tensors_close("dweight", got.dweight, want.dweight, {}));
    }
  }
}

// Many bags over a large table with heavy repetition: two runs give the same bits.
TEST_F(CudaEmbeddingBag, TwoRunsAreBitIdentical) {
  const int64_t V = 60000, D = 64, B = 64;
  Generator gen(5);
  const Tensor input = randint(0, 500, {B * 40}, {.dtype = kInt64}, &gen) * 97;
  std::vector<int64_t> offsets;
  for (int64_t b = 0; b < B; ++b) offsets.push_back(b * 40);
  const Bags c = bags("large", input, offsets);
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor weight = normal({V, D}, dtype, 6);
    const Tensor dout = normal({B, D}, dtype, 7);
    const Result first = run(c, EmbeddingBagMode::Mean, weight, dout, Device::cuda());
    const Result second = run(c, EmbeddingBagMode::Mean, weight, dout, Device::cuda());
    EXPECT_TRUE(test::tensors_close("out rerun", second.out, first.out, {}));
    EXPECT_TRUE(test::tensors_close("dweight rerun", second.dweight, first.dweight, {}));
    const Result cpu = run(c, EmbeddingBagMode::Mean, weight, dout, Device::cpu());
    EXPECT_TRUE(test::tensors_close("out", first.out, cpu.out, {}));
    EXPECT_TRUE(test::tensors_close("dweight", first.dweight, cpu.dweight, {}));
  }
}

// The max mode is composed (index_select, max over padded bags) on both devices.
TEST_F(CudaEmbeddingBag, MaxModeMatchesTheCpu) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor weight = normal({50, 16}, dtype, 8);
    const Tensor dout = normal({8, 16}, dtype, 9);
    const test::Tolerance tol =
        dtype == kFloat32 ? test::Tolerance{1e-6, 1e-6} : test::Tolerance{1e-12, 1e-12};
    for (const Bags& c : bag_cases()) {
      const Result want = run(c, EmbeddingBagMode::Max, weight, dout, Device::cpu());
      const Result got = run(c, EmbeddingBagMode::Max, weight, dout, Device::cuda());
      EXPECT_TRUE(test::tensors_close("out " + c.name, got.out, want.out, tol));
      EXPECT_TRUE(test::tensors_close("dweight " + c.name, got.dweight, want.dweight, tol));
    }
  }
}

}  // namespace
}  // namespace ignis
