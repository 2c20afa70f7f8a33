// A C++ number on its way into a tensor op: bool, integer or floating point, kept exact.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "tensor/dtype.h"

namespace ignis {

class Scalar {
 public:
  Scalar() : kind_(kInt64), i_(0) {}
  Scalar(bool v) : kind_(kBool), i_(v) {}
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  Scalar(T v) : kind_(kInt64), i_(static_cast<int64_t>(v)) {}
  template <typename T>
    requires std::is_floating_point_v<T>
  Scalar(T v) : kind_(kFloat64), d_(static_cast<double>(v)) {}

  // The dtype PyTorch gives a Python number of this kind: bool, int64 or float64.
  DType dtype() const { return kind_; }
  bool is_floating_point() const { return kind_ == kFloat64; }
  bool is_integral() const { return kind_ == kInt64; }
  bool is_bool() const { return kind_ == kBool; }

  template <typename T>
  T to() const {
    return kind_ == kFloat64 ? static_cast<T>(d_) : static_cast<T>(i_);
  }
  std::string str() const;

 private:
  DType kind_;
  union {
    int64_t i_;
    double d_;
  };
};

}  // namespace ignis
