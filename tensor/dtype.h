// Element types and PyTorch's type-promotion rules.
// Not the tensor itself: see tensor.h.
#pragma once

#include <cstdint>
#include <string>

#include "tensor/error.h"

namespace ignis {

// Ordered by promotion category: bool < integers < floating point.
enum class DType : uint8_t { Bool, UInt8, Int32, Int64, Float32, Float64 };

inline constexpr DType kBool = DType::Bool;
inline constexpr DType kUInt8 = DType::UInt8;
inline constexpr DType kInt32 = DType::Int32;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr int kNumDTypes = 6;

size_t itemsize(DType dtype);
const char* dtype_name(DType dtype);  // "float32", "int64", ... as PyTorch prints them
bool is_floating_point(DType dtype);
bool is_integral(DType dtype, bool include_bool);

// The smallest dtype that holds both, as torch.promote_types: (int32, float32) -> float32,
// (uint8, int32) -> int32, (bool, uint8) -> uint8, (int64, float32) -> float32.
DType promote_types(DType a, DType b);

// C++ type <-> DType.
template <typename T> struct DTypeOf;
template <> struct DTypeOf<bool> { static constexpr DType value = kBool; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = kUInt8; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = kInt64; };
template <> struct DTypeOf<float> { static constexpr DType value = kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = kFloat64; };
template <typename T> inline constexpr DType dtype_of = DTypeOf<T>::value;

// Calls f.template operator()<T>() with T the C++ type of `dtype`; dispatch happens once per
// call, never per element:  visit_dtype(t.dtype(), [&]<typename T>() { ... });
template <typename F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: return f.template operator()<bool>();
    case DType::UInt8: return f.template operator()<uint8_t>();
    case DType::Int32: return f.template operator()<int32_t>();
    case DType::Int64: return f.template operator()<int64_t>();
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
  }
  internal_error("visit_dtype: bad dtype");
}

// As visit_dtype, limited to float32 and float64; other dtypes throw DTypeError naming `op`.
template <typename F>
decltype(auto) visit_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default:
      throw DTypeError(std::string(op) + ": expected a floating-point tensor, got " +
                       dtype_name(dtype));
  }
}

}  // namespace ignis
