// CPU kernels of the cross_entropy_forward / cross_entropy_backward slots: fused softmax +
// cross-entropy, one pass per row. Not the argument and target checks: tensor/loss.cpp.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/row_reduce.h"
#include "tensor/cpu/scalar_ops.h"

namespace ignis::cpu {
namespace {

// e^x, inlined so that the row loops vectorise (float32: exp_f32, under 2 ulp).
using scalar_ops::exp_of;

// Class weights w_c: a (C) array, or all ones. Indexing either compiles to a plain load or a
// constant, so one row loop serves both without a branch per element.
template <typename T>
struct ClassWeights {
  const T* w;
  T operator[](int64_t c) const { return w[c]; }
};
template <typename T>
struct UnitWeights {
  T operator[](int64_t) const { return T(1); }
};

// What every row shares: C, ignore_index, the smoothing split and sum_c w_c.
template <typename T>
struct RowProblem {
  int64_t classes;
  int64_t ignore_index;
  T keep;          // 1 - eps: the target's share
  T smooth;        // eps / C: every class's share
  T weight_total;  // sum_c w_c
};

template <typename T, typename W>
RowProblem<T> row_problem(const W& w, int64_t classes, const CrossEntropyParams& params) {
  T total = T(0);
  for (int64_t c = 0; c < classes; ++c) total += w[c];
  return {.classes = classes,
          .ignore_index = params.ignore_index,
          .keep = static_cast<T>(1.0 - params.label_smoothing),
          .smooth = static_cast<T>(params.label_smoothing / static_cast<double>(classes)),
          .weight_total = total};
}

// Rows run in parallel in chunks of at least kGrainElements logits, the softmax kernel's grain
// (a (4096, 1000) forward runs 1.8x faster on 2 threads than on 1); each row is computed
// serially, so the result does not depend on the thread count.
int64_t row_grain(int64_t classes) {
  return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(classes, 1));
}

template <typename T>
bool skipped(int64_t y, const RowProblem<T>& p) {
  return y == p.ignore_index || y < 0 || y >= p.classes;
}

// Lanes of map_row: one AVX-512 vector of float32.
constexpr int kRowLanes = 16;

// d_c = f(x_c, w_c) for c in [0, C): kRowLanes at a time, the tail through a padded copy so
// that short rows stay in SIMD too.
template <typename T, typename W, typename F>
[[gnu::always_inline]] inline void map_row(const T* x, const W& w, int64_t C, T* d, F f) {
  int64_t i = 0;
  for (; i + kRowLanes <= C; i += kRowLanes) {
    for (int j = 0; j < kRowLanes; ++j) d[i + j] = f(x[i + j], w[i + j]);
  }
  const int64_t rem = C - i;
  if (rem == 0) return;
  T xt[kRowLanes], wt[kRowLanes], dt[kRowLanes];
  for (int j = 0; j < kRowLanes; ++j) {
    xt[j] = j < rem ? x[i + j] : x[i];
    wt[j] = j < rem ? w[i + j] : T(0);
  }
  for (int j = 0; j < kRowLanes; ++j) dt[j] = f(xt[j], wt[j]);
  std::copy_n(dt, rem, d + i);
}

// One row x (C) with target y: m = max x, s = sum_c exp(x_c - m), lse = m + log s,
//   loss = (1 - eps) w_y ((m - x_y) + log s) + eps / C (sum_c w_c (m - x_c) + W log s),
// every term of the sums >= 0 (no cancellation at large logits). The max and the sums go in
// row_reduce.h's order, the softmax kernel's: the same lse as log_softmax, bit for bit.
template <typename T, typename W>
void forward_row(const T* x, int64_t y, const W& w, const RowProblem<T>& p, T& loss, T& lse,
                 T& row_weight) {
  const int64_t C = p.classes;
  const T m = reduce_row<MaxFn>(x, C);
  const T s = sum_exp_row(x, C, m);
  const T log_s = std::log(s);
  T l = p.keep * w[y] * ((m - x[y]) + log_s);
  if (p.smooth != T(0)) {
    const T spread =
        map_reduce_row<SumFn, T>(C, [x, &w, m](int64_t c) { return w[c] * (m - x[c]); });
    l += p.smooth * (spread + p.weight_total * log_s);
  }
  loss = l;
  lse = m + log_s;
  row_weight = w[y];
}

// One row's gradient: d_c = exp(x_c - lse) S g - eps / C w_c g, then d_y -= (1 - eps) w_y g,
// with S = (1 - eps) w_y + eps / C W.
template <typename T, typename W>
void backward_row(const T* x, int64_t y, const W& w, const RowProblem<T>& p, T lse, T g,
                  T* d) {
  const T scale = (p.keep * w[y] + p.smooth * p.weight_total) * g;
  const T smooth_g = p.smooth * g;
  map_row(x, w, p.classes, d,
          [=](T v, T wc) { return exp_of(v - lse) * scale - smooth_g * wc; });
  d[y] -= p.keep * w[y] * g;
}

// Calls f(weights) with ClassWeights over `weight`'s data, or UnitWeights when undefined.
template <typename T, typename F>
void visit_weights(const Tensor& weight, F&& f) {
  if (weight.defined()) {
    f(ClassWeights<T>{weight.data_ptr<T>()});
  } else {
    f(UnitWeights<T>{});
  }
}

}  // namespace

// logits (R, C), target (R) int64, weight (C) or undefined, all contiguous (the raw op checks
// them, targets included); loss, lse, row_weight (R) overwritten, 0 on ignored rows.
void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           const CrossEntropyParams& params, const Tensor& loss,
                           const Tensor& lse, const Tensor& row_weight) {
  visit_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    visit_weights<T>(weight, [&](const auto& w) {
      const int64_t C = logits.size(1);
      const RowProblem<T> p = row_problem<T>(w, C, params);
      const T* x = logits.data_ptr<T>();
      const int64_t* y = target.data_ptr<int64_t>();
      T* out_loss = loss.data_ptr<T>();
      T* out_lse = lse.data_ptr<T>();
      T* out_weight = row_weight.data_ptr<T>();
      parallel_for(0, logits.size(0), row_grain(C), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          if (skipped(y[r], p)) {
            out_loss[r] = out_lse[r] = out_weight[r] = T(0);
            continue;
          }
          forward_row(x + r * C, y[r], w, p, out_loss[r], out_lse[r], out_weight[r]);
        }
      });
    });
  });
}

// As the forward's arguments, plus lse (R) from it and grad (R, any stride); dlogits (R, C)
// overwritten, rows of ignored targets zero.
void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            const CrossEntropyParams& params, const Tensor& lse,
                            const Tensor& grad, const Tensor& dlogits) {
  visit_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    visit_weights<T>(weight, [&](const auto& w) {
      const int64_t C = logits.size(1);
      const RowProblem<T> p = row_problem<T>(w, C, params);
      const T* x = logits.data_ptr<T>();
      const int64_t* y = target.data_ptr<int64_t>();
      const T* row_lse = lse.data_ptr<T>();
      const T* g = grad.data_ptr<T>();
      const int64_t g_stride = grad.stride(0);
      T* d = dlogits.data_ptr<T>();
      parallel_for(0, logits.size(0), row_grain(C), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          if (skipped(y[r], p)) {
            std::fill_n(d + r * C, C, T(0));
            continue;
          }
          backward_row(x + r * C, y[r], w, p, row_lse[r], g[r * g_stride], d + r * C);
        }
      });
    });
  });
}

}  // namespace ignis::cpu
