// Element type properties and PyTorch's promotion table for the six ignis dtypes.
// Not the scalar-vs-tensor rules of result_type: those are in elementwise.h.
#include "tensor/dtype.h"

namespace ignis {

size_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return 1;
    case DType::UInt8:
      return 1;
    case DType::Int32:
      return 4;
    case DType::Int64:
      return 8;
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
  }
  internal_error("itemsize: bad dtype");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return "bool";
    case DType::UInt8:
      return "uint8";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
  }
  internal_error("dtype_name: bad dtype");
}

bool is_floating_point(DType dtype) { return dtype == kFloat32 || dtype == kFloat64; }

bool is_integral(DType dtype, bool include_bool) {
  switch (dtype) {
    case DType::Bool:
      return include_bool;
    case DType::UInt8:
    case DType::Int32:
    case DType::Int64:
      return true;
    default:
      return false;
  }
}

// NOTE: for these six dtypes torch.promote_types is exactly the larger of the two in the
// enum's order bool < uint8 < int32 < int64 < float32 < float64 (uint8 has no signed
// partner of its own width here, which is what makes PyTorch's full table non-linear).
DType promote_types(DType a, DType b) { return a < b ? b : a; }

}  // namespace ignis
