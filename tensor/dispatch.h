// The device dispatch table: one slot per primitive op per device type. Raw ops validate
// their arguments, allocate the output and call the slot of the tensors' device; the CPU
// table is filled by tensor/cpu/, the CUDA table by the cuda/ target when it is built.
// tensor/ never includes cuda/: the CUDA backend registers itself (register_kernels).
//
// Adding a primitive: a slot here, its CPU kernel in tensor/cpu/, its CUDA kernel in cuda/
// (see CONTRIBUTING.md). Kernels receive tensors already checked, broadcast and allocated.
#pragma once

#include <cstdint>
#include <span>

#include "tensor/conv.h"
#include "tensor/elementwise.h"
#include "tensor/generator.h"
#include "tensor/linalg.h"
#include "tensor/loss.h"
#include "tensor/reduce.h"
#include "tensor/tensor.h"

namespace ignis {

enum class RandomKind { Uniform, Normal, Bernoulli };

// The fused optimizer steps of the adam_step / sgd_step slots (optim/adam.h and optim/sgd.h
// state the update). A segment is one parameter: device pointers to its contiguous buffers,
// all of the step's dtype and `numel` elements. Constants are given in double, exactly as
// the CPU loop computes them; a kernel rounds each to the dtype once (static_cast), as the
// CPU loop does, then follows the CPU loop's operations in order.
struct AdamStepSegment {
  void* param;
  void* grad;
  void* exp_avg;
  void* exp_avg_sq;
  void* max_exp_avg_sq;  // amsgrad, else null
  int64_t numel;
  double bias_correction2_sqrt;  // (1 - beta2^t)^0.5, t this parameter's step
  double neg_step_size;          // -lr / (1 - beta1^t)
};
struct AdamStepConstants {
  bool maximize, amsgrad;
  bool l2;          // Adam: g += weight_decay * p
  bool decay;       // AdamW: p *= decay_factor
  bool lerp_small;  // m = m + weight (g - m); otherwise m = g - (g - m) one_minus_weight
  double weight_decay, decay_factor, weight, one_minus_weight, beta2, one_minus_beta2, eps;
};
struct SGDStepSegment {
  void* param;
  void* grad;
  void* momentum_buffer;  // with momentum, else null; written (not read) on the first step
  int64_t numel;
  bool first_step;        // the momentum buffer starts as the gradient
};
struct SGDStepConstants {
  bool maximize, l2, nesterov, momentum;
  double weight_decay, momentum_factor, one_minus_dampening, neg_lr;
};

struct KernelTable {
  // out[...] = value                                      (out: any layout)
  void (*fill)(const Tensor& out, const Scalar& value) = nullptr;
  // dst[...] = cast(src[...]); same shape (src may have 0 strides), same device
  void (*copy)(const Tensor& dst, const Tensor& src) = nullptr;
  // Byte copy between this device and the host: dst and src contiguous, same dtype and
  // shape, one of them on the CPU and the other on this table's device. Empty for the CPU.
  void (*transfer)(const Tensor& dst, const Tensor& src) = nullptr;
  // out = op(in); same shape; in.dtype == out.dtype, except bool-output ops
  void (*unary)(UnaryOp op, const UnaryParams& params, const Tensor& in,
                const Tensor& out) = nullptr;
  // out = op(a, b); a, b already expanded to out's shape, both of the compute dtype;
  // out of the compute dtype, or bool for comparisons. out may alias a (in place).
  void (*binary)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = nullptr;
  // out = cond ? a : b; all expanded to out's shape; a, b, out of one dtype; cond bool
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b,
                const Tensor& out) = nullptr;
  // in: contiguous (outer, n); out: contiguous (outer) of the result dtype (int64 for
  // ArgMax/ArgMin); the order of accumulation is fixed by n alone. in is already of the
  // output dtype for Sum/Prod/Max/Min (the raw op converts first).
  void (*reduce)(ReduceOp op, const Tensor& in, const Tensor& out) = nullptr;
  // out (outer) values and indices (int64) of max/min along the last dim of in (outer, n)
  void (*reduce_with_index)(ReduceOp op, const Tensor& in, const Tensor& values,
                            const Tensor& indices) = nullptr;
  void (*gemm)(const GemmArgs& args) = nullptr;
  // in, out contiguous (outer, n, inner); softmax over the middle dim
  void (*softmax)(const Tensor& in, const Tensor& out, int64_t outer, int64_t n,
                  int64_t inner, bool log) = nullptr;
  // out (outer, index.numel(), inner) = in (outer, n, inner)[:, index, :]; all contiguous
  void (*index_select)(const Tensor& in, const Tensor& index, const Tensor& out,
                       int64_t outer, int64_t n, int64_t inner) = nullptr;
  // out = in.gather(dim, index): index and out same shape; in any strides
  void (*gather)(const Tensor& in, int64_t dim, const Tensor& index,
                 const Tensor& out) = nullptr;
  // out.scatter_add_(dim, index, src) in place; deterministic (serial per output slice)
  void (*scatter_add)(const Tensor& out, int64_t dim, const Tensor& index,
                      const Tensor& src) = nullptr;
  // Fills out (contiguous, floating) from Philox starting at `state` (see generator.h):
  // Uniform in [a, b), Normal(mean a, std b), Bernoulli(p = a) as 0/1.
  void (*random)(RandomKind kind, double a, double b, PhiloxState state,
                 const Tensor& out) = nullptr;
  // As random(Bernoulli) with p taken elementwise from `p` (same shape as out)
  void (*bernoulli_tensor)(const Tensor& p, PhiloxState state, const Tensor& out) = nullptr;
  // out (outer, inner) = op over the middle dim of in (outer, n, inner), for Sum/Prod/Max/
  // Min; in and out contiguous, of one dtype (as reduce). Each out element is accumulated in
  // reduce's order for a row of length n. Optional: raw ops fall back to reduce when empty.
  void (*reduce_strided)(ReduceOp op, const Tensor& in, const Tensor& out, int64_t outer,
                         int64_t n, int64_t inner) = nullptr;
  // out (N, C kh kw, L) = im2col of in (N, C, H, W) for `window` (tensor/conv.h); both
  // contiguous, of one dtype (any); padding taps are 0
  void (*unfold)(const Tensor& in, const Tensor& out, const Window2d& window) = nullptr;
  // out (N, C, H, W) = col2im of in (N, C kh kw, L), overwritten; both contiguous, floating;
  // deterministic (each output plane summed serially in a fixed order)
  void (*fold)(const Tensor& in, const Tensor& out, const Window2d& window) = nullptr;
  // Pooling (tensor/pool.h states the arithmetic and checks the window). in / grad_in
  // (N, C, H, W), values / out / grad_out (N, C, oh, ow) for `window`: all contiguous,
  // floating, of one dtype; indices int64 of values' shape. Each (n, c) plane is computed
  // serially, so results do not depend on the thread count.
  // values = max of each window's in-image taps (a NaN wins, the first of equal maxima wins,
  // padding never wins); indices = its flat y W + x in the plane, -1 for a window with no
  // in-image tap (values -inf).
  void (*max_pool2d)(const Tensor& in, const Tensor& values, const Tensor& indices,
                     const Window2d& window) = nullptr;
  // grad_in (N, C, H, W) overwritten: grad_in[n, c, p] = sum of grad_out[n, c, q] over the
  // positions q whose indices[n, c, q] == p, added in increasing q (deterministic); indices as
  // max_pool2d made them for `window` (each inside its own window, or -1: adds nothing).
  void (*max_pool2d_backward)(const Tensor& grad_out, const Tensor& indices,
                              const Tensor& grad_in, const Window2d& window) = nullptr;
  // out = sum of each window's in-image taps (row-major order) / divisor, divisor = kh kw
  // when count_include_pad, else the number of in-image taps; window.dilation is (1, 1).
  void (*avg_pool2d)(const Tensor& in, const Tensor& out, const Window2d& window,
                     bool count_include_pad) = nullptr;
  // grad_in (N, C, H, W) overwritten: each pixel gets grad_out[q] / divisor(q) from every
  // window q that covers it, added in increasing q (deterministic).
  void (*avg_pool2d_backward)(const Tensor& grad_out, const Tensor& grad_in,
                              const Window2d& window, bool count_include_pad) = nullptr;
  // Whole convolutions (tensor/conv.h states the arithmetic and checks the shapes). Optional:
  // when empty (the CPU), raw::conv2d and raw::conv2d_backward build the convolution from the
  // unfold, fold, gemm and reduce slots; the two backward slots are used only as a pair.
  // x / dinput (N, C, H, W), weight / dweight (O, C / groups, kh, kw), bias (O) or undefined,
  // out / dout (N, O, oh, ow) for `window` (kernel_size = the weight's (kh, kw)) and `groups`:
  // all contiguous, float32 or float64 of one dtype, none empty. Each result is overwritten
  // and must not depend on the thread count nor change from run to run (fixed algorithms).
  // out = conv2d(x, weight) + bias
  void (*conv2d_forward)(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& out, const Window2d& window, int64_t groups) = nullptr;
  // dinput = d sum(out * dout) / dx, which reads only the weight
  void (*conv2d_backward_data)(const Tensor& dout, const Tensor& weight, const Tensor& dinput,
                               const Window2d& window, int64_t groups) = nullptr;
  // dweight = d sum(out * dout) / dweight, which reads only x
  void (*conv2d_backward_filter)(const Tensor& dout, const Tensor& x, const Tensor& dweight,
                                 const Window2d& window, int64_t groups) = nullptr;
  // Fused softmax + cross-entropy over rows (tensor/loss.h states the arithmetic and checks
  // the arguments). logits / dlogits (R, C) and target (R) int64 contiguous, every target in
  // [0, C) or params.ignore_index (a kernel treats any other as ignored: it never reads or
  // writes outside a row); weight (C) contiguous of the logits' dtype, or undefined (all 1).
  // Each row is computed serially in an order fixed by C, so results do not depend on the
  // thread count.
  // loss, lse, row_weight (R) overwritten: the row's loss, logsumexp and w[y]; 0 when ignored.
  void (*cross_entropy_forward)(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                const CrossEntropyParams& params, const Tensor& loss,
                                const Tensor& lse, const Tensor& row_weight) = nullptr;
  // dlogits overwritten: (exp(x - lse) S - a) grad[r] per row, 0 on ignored rows; lse (R)
  // contiguous from the forward, grad (R) of the logits' dtype with any stride (0: a scalar).
  void (*cross_entropy_backward)(const Tensor& logits, const Tensor& target,
                                 const Tensor& weight, const CrossEntropyParams& params,
                                 const Tensor& lse, const Tensor& grad,
                                 const Tensor& dlogits) = nullptr;
  // Fused embedding_bag, sum and mean modes (nn/embedding_bag.cpp checks the arguments and
  // reads the bags on the host). K kept entries in B bags over a weight of V rows of width D.
  // The bags, int64, contiguous, on the weight's device: index (K) each entry's weight row in
  // input order, in [0, V); bag_first (B + 1) non-decreasing from 0 to K, bag b being the
  // entries [bag_first[b], bag_first[b + 1]); with mean, divisor_b = (T) max(size_b, 1),
  // without it no division. weight / dweight (V, D) and out / dout (B, D): contiguous, one
  // dtype, float32 or float64. Every result is overwritten, each element summed from 0 in
  // the fixed order below, so it is the same for any thread count and run (no atomics).
  // out[b] = (w[index[k0]] + w[index[k0 + 1]] + ... over bag b's entries) / divisor_b; an
  // empty bag gives 0.
  void (*embedding_bag_forward)(const Tensor& weight, const Tensor& index,
                                const Tensor& bag_first, bool mean, const Tensor& out) = nullptr;
  // dweight[r] = sum, over the entries of row r in input order, of dout[b] / divisor_b (b the
  // entry's bag); rows without entries are 0. The entries grouped by row (a compressed sparse
  // row list of the R distinct rows that have entries): rows (R) increasing, row_first (R + 1)
  // non-decreasing from 0 to K, row_bag (K) the bags of row rows[j]'s entries at
  // [row_first[j], row_first[j + 1]), in input order.
  void (*embedding_bag_backward)(const Tensor& dout, const Tensor& bag_first, const Tensor& rows,
                                 const Tensor& row_first, const Tensor& row_bag, bool mean,
                                 const Tensor& dweight) = nullptr;
  // Fused optimizer steps over many parameters of one device and dtype (float32 or float64)
  // in a few launches: every segment updated in place as the CPU loop of optim/adam.cpp /
  // optim/sgd.cpp does (see AdamStepSegment); with zero_grads each gradient element is
  // zeroed right after it is read (the caller checked that no two buffers overlap). Optional
  // and empty on the CPU, whose fused loop lives in optim/: when empty, optim/ updates a
  // device's parameters with raw in-place ops.
  void (*adam_step)(Device device, DType dtype, const AdamStepConstants& c,
                    std::span<const AdamStepSegment> segments, bool zero_grads) = nullptr;
  void (*sgd_step)(Device device, DType dtype, const SGDStepConstants& c,
                   std::span<const SGDStepSegment> segments, bool zero_grads) = nullptr;
};

// The table of a device type; registering replaces the whole table.
const KernelTable& kernel_table(DeviceType type);
void register_kernels(DeviceType type, const KernelTable& table);

[[noreturn]] void throw_no_kernel(const char* op, Device device);

// The kernel in `slot` for `device`; throws DeviceError "<op>: no <device> kernel"
// when the slot is empty (CUDA off, or an op the backend lacks).
template <typename Fn>
Fn* get_kernel(Fn* KernelTable::*slot, Device device, const char* op) {
  Fn* fn = kernel_table(device.type).*slot;
  if (fn == nullptr) throw_no_kernel(op, device);
  return fn;
}

}  // namespace ignis
