// CPU fill and copy kernels (any dtype to any dtype, any strides) over cpu/strided.h.
// Not the op: raw::fill_ / raw::copy_ (copy.cpp) check and broadcast first.
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/strided.h"

namespace ignis::cpu {

void fill(const Tensor& out, const Scalar& value) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    map_kernel<T>(out, [v]() { return v; }, {});
  });
}

void copy(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), [&]<typename To>() {
    visit_dtype(src.dtype(), [&]<typename From>() {
      map_kernel<To, From>(dst, [](From x) { return static_cast<To>(x); }, {src});
    });
  });
}

}  // namespace ignis::cpu
