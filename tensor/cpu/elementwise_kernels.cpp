// CPU kernels of the elementwise ops: each op's functor (tensor/cpu/scalar_ops.h, shared with
// the CUDA kernels) mapped over its operands by the one strided skeleton of cpu/strided.h.
// Not the ops: tensor/elementwise.cpp validates, promotes and broadcasts before calling these.
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/scalar_ops.h"
#include "tensor/cpu/strided.h"

namespace ignis::cpu {
namespace {

using scalar_ops::Domain;
using scalar_ops::functor_for;
using scalar_ops::visit_domain;

// The one value of `t` when every element of it is that value (a broadcast number).
bool is_broadcast_scalar(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) != 1 && t.stride(d) != 0) return false;
  }
  return true;
}

}  // namespace

// out = f(in), out of f's result type for in's dtype.
void unary(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out) {
  scalar_ops::visit_unary_op(
      op, params, in.dtype(), [&]<Domain D, typename F>(const char* name, const F& op_f) {
        visit_domain<D>(in.dtype(), name, [&]<typename T>() {
          const auto f = functor_for<T>(op_f);
          using Out = decltype(f(T{}));
          map_kernel<Out, T>(out, f, {in});
        });
      });
}

// out = f(a, b). A broadcast number operand (x * 2, x + bias0) is folded into the functor,
// so the loop over the other operand stays contiguous and vectorises.
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  scalar_ops::visit_binary_op(op, [&]<Domain D, typename F>(const char* name, const F& f) {
    visit_domain<D>(a.dtype(), name, [&]<typename T>() {
      using Out = decltype(f(T{}, T{}));
      if (is_broadcast_scalar(b) && !is_broadcast_scalar(a)) {
        const T vb = *b.data_ptr<T>();
        map_kernel<Out, T>(out, [f, vb](T x) { return f(x, vb); }, {a});
      } else if (is_broadcast_scalar(a) && !is_broadcast_scalar(b)) {
        const T va = *a.data_ptr<T>();
        map_kernel<Out, T>(out, [f, va](T x) { return f(va, x); }, {b});
      } else {
        map_kernel<Out, T, T>(out, f, {a, b});
      }
    });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    map_kernel<T, bool, T, T>(out, scalar_ops::Select{}, {cond, a, b});
  });
}

}  // namespace ignis::cpu
