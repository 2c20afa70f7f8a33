// CUDA kernels of fill, copy (any dtype to any dtype, any strides), the host <-> device
// transfer, and the elementwise ops: each op is its functor from tensor/cpu/scalar_ops.h (the
// very ones the CPU kernels map) launched through the one skeleton of map.cuh. Not the ops:
// raw ops in tensor/ validate, promote and broadcast before calling these.
#include "cuda/kernels.h"
#include "cuda/map.cuh"
#include "tensor/cpu/scalar_ops.h"

namespace ignis::cuda {
namespace {

using scalar_ops::Domain;
using scalar_ops::functor_for;
using scalar_ops::visit_domain;

// ---- fill and copy ----

template <typename T>
struct Constant {
  T value;
  __device__ T operator()() const { return value; }
};

template <typename To>
struct Cast {
  template <typename From> __device__ To operator()(From x) const { return static_cast<To>(x); }
};

}  // namespace

void fill_cuda(const Tensor& out, const Scalar& value) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    launch_map<T>("fill_", out, Constant<T>{value.to<T>()}, {});
  });
}

void copy_cuda(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), [&]<typename To>() {
    visit_dtype(src.dtype(), [&]<typename From>() {
      launch_map<To, From>("copy_", dst, Cast<To>{}, {src});
    });
  });
}

void transfer_cuda(const Tensor& dst, const Tensor& src) {
  const size_t nbytes = dst.nbytes();
  if (nbytes == 0) return;
  if (dst.is_cpu()) {
    const int device = src.device().index;
    DeviceGuard guard(device);
    cudaStream_t s = stream(device);
    check(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyDeviceToHost, s),
          "copy_ (device to host)");
    // The host reads dst as soon as this returns.
    check(cudaStreamSynchronize(s), "copy_ (device to host)");
    return;
  }
  const int device = dst.device().index;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  check(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyHostToDevice, s),
        "copy_ (host to device)");
  // NOTE: from pageable memory (every CPU tensor: the CPU allocator does not pin) the call
  // returns once the source is staged, so the caller may free it at once. Pinned memory
  // would be read later, asynchronously: then wait, or the caller could free it too soon.
  cudaPointerAttributes attributes{};
  check(cudaPointerGetAttributes(&attributes, src.raw_data()), "copy_ (host to device)");
  if (attributes.type == cudaMemoryTypeHost) {
    check(cudaStreamSynchronize(s), "copy_ (host to device)");
  }
}

void unary_cuda(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out) {
  scalar_ops::visit_unary_op(
      op, params, in.dtype(), [&]<Domain D, typename F>(const char* name, const F& op_f) {
        visit_domain<D>(in.dtype(), name, [&]<typename T>() {
          const auto f = functor_for<T>(op_f);
          using Out = decltype(f(T{}));
          launch_map<Out, T>(name, out, f, {in});
        });
      });
}

void binary_cuda(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  scalar_ops::visit_binary_op(op, [&]<Domain D, typename F>(const char* name, const F& f) {
    visit_domain<D>(a.dtype(), name, [&]<typename T>() {
      using Out = decltype(f(T{}, T{}));
      launch_map<Out, T, T>(name, out, f, {a, b});
    });
  });
}

void where_cuda(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    launch_map<T, bool, T, T>("where", out, scalar_ops::Select{}, {cond, a, b});
  });
}

}  // namespace ignis::cuda
