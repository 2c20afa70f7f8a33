// A GoogleTest fixture parameterised by the CPU GEMM kernel (AVX-512, AVX2, portable): each
// test runs with that kernel selected and the previous choice restored after, and skips when
// this CPU cannot run it. Test support only.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tensor/cpu/gemm_isa.h"

namespace ignis::test {

class GemmIsaTest : public ::testing::TestWithParam<cpu::GemmIsa> {
 protected:
  void SetUp() override {
    if (!cpu::gemm_isa_supported(GetParam()))
      GTEST_SKIP() << "this CPU cannot run the " << cpu::gemm_isa_name(GetParam()) << " kernel";
    saved_ = cpu::gemm_isa();
    cpu::set_gemm_isa(GetParam());
  }
  void TearDown() override {
    if (saved_) cpu::set_gemm_isa(*saved_);
  }

 private:
  std::optional<cpu::GemmIsa> saved_;
};

// For INSTANTIATE_TEST_SUITE_P(AllIsas, Suite, all_gemm_isas(), gemm_isa_test_name).
inline auto all_gemm_isas() {
  return ::testing::ValuesIn(std::vector<cpu::GemmIsa>{cpu::GemmIsa::Avx512, cpu::GemmIsa::Avx2,
                                                       cpu::GemmIsa::Portable});
}
inline std::string gemm_isa_test_name(const ::testing::TestParamInfo<cpu::GemmIsa>& info) {
  return cpu::gemm_isa_name(info.param);
}

}  // namespace ignis::test
