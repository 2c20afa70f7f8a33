// Raw copies and conversions: fill_, copy_ (broadcast, dtype cast, cross-device through a
// host staging buffer), contiguous, clone, to(dtype), to(device). Not the kernels: those are
// the `fill` / `copy` / `transfer` slots of each device's table.
#include <algorithm>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/view_ops.h"

namespace ignis::raw {
namespace {

// PyTorch refuses in-place writes where two elements share one memory location.
void check_writable(const Tensor& t, const char* op) {
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) == 0 && t.size(d) > 1) {
      throw ValueError(std::string(op) + ": cannot write to an expanded tensor of shape " +
                       t.shape_str() +
                       " (several elements share one memory location); "
                       "clone it first");
    }
  }
}

// Host <-> device copy of equal-shape tensors, exactly one of them on the CPU.
void transfer(const Tensor& dst, const Tensor& src) {
  const Device device = dst.is_cpu() ? src.device() : dst.device();
  auto fn = get_kernel(&KernelTable::transfer, device, "copy_");
  Tensor staged_src = contiguous(src);
  if (dst.is_contiguous()) {
    fn(dst, staged_src);
    return;
  }
  Tensor staged_dst = make_tensor(dst.sizes(), dst.dtype(), dst.device());
  fn(staged_dst, staged_src);
  get_kernel(&KernelTable::copy, dst.device(), "copy_")(dst, staged_dst);
}

}  // namespace

void fill_(const Tensor& t, const Scalar& value) {
  check_writable(t, "fill_");
  if (t.numel() > 0) get_kernel(&KernelTable::fill, t.device(), "fill_")(t, value);
  t.bump_version();
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_writable(dst, "copy_");
  if (broadcast_shapes(dst.sizes(), src.sizes(), "copy_") != dst.sizes()) {
    throw ShapeError("copy_: source of shape " + src.shape_str() +
                     " cannot be broadcast to the destination's shape " + dst.shape_str());
  }
  Tensor from = expand(src, dst.sizes());
  if (dst.numel() > 0) {
    if (from.storage() == dst.storage() && !from.is_same(dst)) {
      // Overlapping views of one buffer: read from a snapshot, never a half-written source.
      from = clone(from);
    }
    if (from.device() == dst.device()) {
      get_kernel(&KernelTable::copy, dst.device(), "copy_")(dst, from);
    } else if (from.is_cpu() || dst.is_cpu()) {
      // Convert dtype on the side that has the host copy, then move bytes.
      if (dst.is_cpu()) {
        Tensor host = make_tensor(dst.sizes(), from.dtype(), Device::cpu());
        transfer(host, from);
        get_kernel(&KernelTable::copy, dst.device(), "copy_")(dst, host);
      } else {
        transfer(dst, to(from, dst.dtype()));
      }
    } else {  // between two accelerators: through the host
      Tensor host = make_tensor(dst.sizes(), from.dtype(), Device::cpu());
      transfer(host, from);
      transfer(dst, to(host, dst.dtype()));
    }
  }
  dst.bump_version();
}

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = make_tensor(t.sizes(), t.dtype(), t.device());
  get_kernel(&KernelTable::copy, t.device(), "contiguous")(out, t);
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = make_tensor(t.sizes(), t.dtype(), t.device());
  if (t.numel() > 0) get_kernel(&KernelTable::copy, t.device(), "clone")(out, t);
  return out;
}

Tensor to(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = make_tensor(t.sizes(), dtype, t.device());
  if (t.numel() > 0) get_kernel(&KernelTable::copy, t.device(), "to")(out, t);
  return out;
}

Tensor to(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  Tensor out = make_tensor(t.sizes(), t.dtype(), device);
  copy_(out, t);
  return out;
}

}  // namespace ignis::raw
