#!/usr/bin/env python3
"""Writes nn_fixtures.txt: PyTorch's forward outputs and gradients for the layers and losses
of ignis::nn, read by tests/nn/reference_test.cpp. Not a test itself: it only needs PyTorch
when the fixtures are regenerated, never when the tests run.

Same format, input specs and rounding as make_fixtures.py (whose helpers it reuses): each case
runs one functional call on seeded inputs in float32 and float64, the gradients being those of
loss = sum_i (out_i * w_i).sum(). Layer parameters are ordinary inputs (the LeNet case names
them after their state_dict keys, '.' written '_'). Targets that PyTorch does not
differentiate through (class probabilities of cross_entropy) are detached, so their stored
gradient is zero.
"""

import pathlib

import torch
import torch.nn.functional as F

from make_fixtures import DTYPES, I, IV, N, U, V, make_case

OUT = pathlib.Path(__file__).with_name("nn_fixtures.txt")
CASES = {}


def case(name, inputs, op, differentiable=True):
    assert name not in CASES, name
    CASES[name] = (inputs, op, differentiable)


# Linear and convolution.
case("linear", {"x": N(2, 3, 4), "w": N(5, 4), "b": N(5)}, lambda x, w, b: F.linear(x, w, b))
case("conv2d", {"x": N(2, 3, 6, 6), "w": N(4, 3, 3, 3), "b": N(4)},
     lambda x, w, b: F.conv2d(x, w, b))
case("conv2d_stride2_pad1", {"x": N(2, 3, 7, 6), "w": N(4, 3, 3, 3), "b": N(4)},
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1))
case("conv2d_k3x2_dilation2_pad1x2", {"x": N(1, 2, 7, 6), "w": N(3, 2, 3, 2), "b": N(3)},
     lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=2))
case("conv2d_groups2_no_bias", {"x": N(2, 4, 5, 5), "w": N(6, 2, 3, 3)},
     lambda x, w: F.conv2d(x, w, None, stride=(1, 2), groups=2))
case("conv2d_depthwise", {"x": N(1, 3, 5, 4), "w": N(3, 1, 2, 2), "b": N(3)},
     lambda x, w, b: F.conv2d(x, w, b, groups=3))

# Pooling.
case("max_pool2d_k2", {"x": N(2, 3, 6, 6)}, lambda x: F.max_pool2d(x, 2))
case("max_pool2d_k3_s2_p1", {"x": N(2, 2, 7, 6)}, lambda x: F.max_pool2d(x, 3, 2, 1))
case("max_pool2d_k2_s1_dilation2", {"x": N(1, 2, 6, 5)},
     lambda x: F.max_pool2d(x, 2, 1, 0, dilation=2))
case("max_pool2d_3d_input", {"x": N(2, 5, 4)}, lambda x: F.max_pool2d(x, (2, 3), (1, 1)))
case("avg_pool2d_k2", {"x": N(2, 3, 6, 6)}, lambda x: F.avg_pool2d(x, 2))
case("avg_pool2d_k3_s2_p1", {"x": N(2, 2, 7, 6)}, lambda x: F.avg_pool2d(x, 3, 2, 1))
case("avg_pool2d_k3_s2_p1_exclude_pad", {"x": N(2, 2, 7, 6)},
     lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))
case("adaptive_avg_pool2d_3x2", {"x": N(2, 3, 7, 5)}, lambda x: F.adaptive_avg_pool2d(x, (3, 2)))
case("adaptive_avg_pool2d_1", {"x": N(2, 3, 4, 5)}, lambda x: F.adaptive_avg_pool2d(x, 1))

# Embeddings.
case("embedding_padding_idx", {"w": N(6, 3), "i": IV([1, 2, 0, 1, 5, 1, 3, 2], 2, 4)},
     lambda w, i: F.embedding(i, w, padding_idx=1))
BAG = IV([1, 4, 4, 0, 2, 3, 5, 1, 2], 9)
OFFSETS = IV([0, 2, 2, 6], 4)  # bags of 2, 0 (empty), 4 and 3 indices
case("embedding_bag_sum", {"w": N(6, 3), "i": BAG, "o": OFFSETS},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="sum"))
case("embedding_bag_mean", {"w": N(6, 3), "i": BAG, "o": OFFSETS},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="mean"))
case("embedding_bag_max", {"w": N(6, 3), "i": BAG, "o": OFFSETS},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="max"))
case("embedding_bag_sum_per_sample_weights", {"w": N(6, 3), "i": BAG, "o": OFFSETS, "p": N(9)},
     lambda w, i, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p))
case("embedding_bag_mean_padding_idx", {"w": N(6, 3), "i": BAG, "o": OFFSETS},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="mean", padding_idx=4))
case("embedding_bag_max_padding_idx", {"w": N(6, 3), "i": BAG, "o": OFFSETS},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="max", padding_idx=1))
case("embedding_bag_sum_include_last_offset", {"w": N(6, 3), "i": BAG, "o": IV([0, 3, 7, 9], 4)},
     lambda w, i, o: F.embedding_bag(i, w, o, mode="sum", include_last_offset=True))
case("embedding_bag_mean_2d", {"w": N(6, 3), "i": IV([0, 5, 5, 2, 1, 3, 3, 3], 2, 4)},
     lambda w, i: F.embedding_bag(i, w, mode="mean"))

# Normalization.
case("layer_norm_last", {"x": N(3, 4, 5), "w": N(5), "b": N(5)},
     lambda x, w, b: F.layer_norm(x, (5,), w, b))
case("layer_norm_last2_eps", {"x": N(2, 3, 4), "w": N(3, 4), "b": N(3, 4)},
     lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3))
case("layer_norm_no_affine", {"x": N(4, 6)}, lambda x: F.layer_norm(x, (6,)))


def batch_norm_train(x, w, b):
    c = x.shape[1]
    running_mean, running_var = torch.zeros(c, dtype=x.dtype), torch.ones(c, dtype=x.dtype)
    out = F.batch_norm(x, running_mean, running_var, w, b, training=True, momentum=0.3)
    return out, running_mean, running_var


case("batch_norm_train_2d", {"x": N(4, 3, 2, 3), "w": N(3), "b": N(3)}, batch_norm_train)
case("batch_norm_train_1d", {"x": N(5, 4), "w": N(4), "b": N(4)}, batch_norm_train)
case("batch_norm_train_1d_3d_input", {"x": N(3, 2, 4), "w": N(2), "b": N(2)}, batch_norm_train)
case("batch_norm_eval", {"x": N(4, 3, 2, 2), "m": N(3), "v": U(0.5, 1.5, 3), "w": N(3),
                         "b": N(3)},
     lambda x, m, v, w, b: F.batch_norm(x, m.detach(), v.detach(), w, b, training=False))

# Cross entropy: class indices (with weights, ignore_index, label smoothing, every reduction,
# extra dims, unbatched) and class probabilities.
T4 = IV([1, 0, 4, 2], 4)
T4_IGNORED = IV([1, -100, 4, 2], 4)
W5 = U(0.5, 2.0, 5)
case("cross_entropy", {"x": N(4, 5), "t": T4}, lambda x, t: F.cross_entropy(x, t))
case("cross_entropy_sum", {"x": N(4, 5), "t": T4},
     lambda x, t: F.cross_entropy(x, t, reduction="sum"))
case("cross_entropy_none", {"x": N(4, 5), "t": T4},
     lambda x, t: F.cross_entropy(x, t, reduction="none"))
case("cross_entropy_weight", {"x": N(4, 5), "t": T4, "w": W5},
     lambda x, t, w: F.cross_entropy(x, t, w.detach()))
case("cross_entropy_ignore_index", {"x": N(4, 5), "t": T4_IGNORED},
     lambda x, t: F.cross_entropy(x, t))
case("cross_entropy_ignore_index_2", {"x": N(4, 5), "t": T4},
     lambda x, t: F.cross_entropy(x, t, ignore_index=2))
case("cross_entropy_label_smoothing", {"x": N(4, 5), "t": T4},
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1))
case("cross_entropy_weight_ignore_smoothing", {"x": N(4, 5), "t": T4_IGNORED, "w": W5},
     lambda x, t, w: F.cross_entropy(x, t, w.detach(), label_smoothing=0.2))
case("cross_entropy_weight_ignore_smoothing_none", {"x": N(4, 5), "t": T4_IGNORED, "w": W5},
     lambda x, t, w: F.cross_entropy(x, t, w.detach(), reduction="none", label_smoothing=0.2))
case("cross_entropy_weight_smoothing_sum", {"x": N(4, 5), "t": T4, "w": W5},
     lambda x, t, w: F.cross_entropy(x, t, w.detach(), reduction="sum", label_smoothing=0.3))
case("cross_entropy_3d", {"x": N(2, 4, 3), "t": IV([0, 3, 3, 1, 2, 0], 2, 3)},
     lambda x, t: F.cross_entropy(x, t))
case("cross_entropy_4d_none", {"x": N(2, 3, 2, 2), "t": IV([0, 2, 1, 1, 2, 0, 0, 1], 2, 2, 2)},
     lambda x, t: F.cross_entropy(x, t, reduction="none"))
case("cross_entropy_unbatched", {"x": N(5), "t": IV([3], )},
     lambda x, t: F.cross_entropy(x, t))
case("cross_entropy_large_logits", {"x": U(-300.0, 300.0, 3, 4), "t": IV([0, 1, 3], 3)},
     lambda x, t: F.cross_entropy(x, t))
case("cross_entropy_probs", {"x": N(4, 5), "p": U(0.0, 1.0, 4, 5)},
     lambda x, p: F.cross_entropy(x, p.detach()))
case("cross_entropy_probs_weight_smoothing", {"x": N(4, 5), "p": U(0.0, 1.0, 4, 5), "w": W5},
     lambda x, p, w: F.cross_entropy(x, p.detach(), w.detach(), label_smoothing=0.1))
case("cross_entropy_probs_3d_none", {"x": N(2, 3, 2), "p": U(0.0, 1.0, 2, 3, 2)},
     lambda x, p: F.cross_entropy(x, p.detach(), reduction="none"))

# NLL.
case("nll_loss", {"x": N(4, 5), "t": T4}, lambda x, t: F.nll_loss(x, t))
case("nll_loss_weight_ignore", {"x": N(4, 5), "t": T4_IGNORED, "w": W5},
     lambda x, t, w: F.nll_loss(x, t, w.detach()))
case("nll_loss_3d_none", {"x": N(2, 4, 3), "t": IV([0, 3, 3, 1, 2, 0], 2, 3)},
     lambda x, t: F.nll_loss(x, t, reduction="none"))
case("nll_loss_sum", {"x": N(4, 5), "t": T4}, lambda x, t: F.nll_loss(x, t, reduction="sum"))

# Regression losses (the target is differentiated too).
REG = {"x": N(3, 4), "y": N(3, 4)}
case("mse_loss", REG, lambda x, y: F.mse_loss(x, y))
case("mse_loss_sum", REG, lambda x, y: F.mse_loss(x, y, reduction="sum"))
case("mse_loss_none", REG, lambda x, y: F.mse_loss(x, y, reduction="none"))
case("l1_loss", REG, lambda x, y: F.l1_loss(x, y))
case("l1_loss_none", REG, lambda x, y: F.l1_loss(x, y, reduction="none"))
case("smooth_l1_loss", REG, lambda x, y: F.smooth_l1_loss(x, y))
case("smooth_l1_loss_beta05_sum", REG, lambda x, y: F.smooth_l1_loss(x, y, reduction="sum",
                                                                    beta=0.5))
case("smooth_l1_loss_beta0", REG, lambda x, y: F.smooth_l1_loss(x, y, beta=0.0))
case("huber_loss", REG, lambda x, y: F.huber_loss(x, y))
case("huber_loss_delta07_none", REG, lambda x, y: F.huber_loss(x, y, reduction="none",
                                                               delta=0.7))

# Binary cross entropy.
BIN = {"x": U(0.05, 0.95, 3, 4), "y": U(0.0, 1.0, 3, 4)}
case("binary_cross_entropy", BIN, lambda x, y: F.binary_cross_entropy(x, y))
case("binary_cross_entropy_weight_sum", {**BIN, "w": U(0.5, 2.0, 4)},
     lambda x, y, w: F.binary_cross_entropy(x, y, w.detach(), reduction="sum"))
case("binary_cross_entropy_none", BIN,
     lambda x, y: F.binary_cross_entropy(x, y, reduction="none"))
LOGITS = {"x": N(3, 4), "y": U(0.0, 1.0, 3, 4)}
case("bce_with_logits", LOGITS, lambda x, y: F.binary_cross_entropy_with_logits(x, y))
case("bce_with_logits_pos_weight_weight", {**LOGITS, "w": U(0.5, 2.0, 3, 1),
                                           "pw": U(0.5, 3.0, 4)},
     lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, w.detach(),
                                                            pos_weight=pw.detach()))
case("bce_with_logits_large_none", {"x": U(-80.0, 80.0, 3, 4), "y": U(0.0, 1.0, 3, 4)},
     lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"))


# A LeNet-style CNN on a fixed batch: the logits and the mean cross entropy.
def lenet(x, y, conv1_weight, conv1_bias, conv2_weight, conv2_bias, fc1_weight, fc1_bias,
          fc2_weight, fc2_bias):
    h = F.max_pool2d(F.relu(F.conv2d(x, conv1_weight, conv1_bias)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, conv2_weight, conv2_bias, padding=1)), 2)
    h = F.relu(F.linear(h.flatten(1), fc1_weight, fc1_bias))
    logits = F.linear(h, fc2_weight, fc2_bias)
    return logits, F.cross_entropy(logits, y)


case("lenet", {"x": N(3, 1, 12, 12), "y": IV([2, 0, 9], 3),
               "conv1_weight": U(-0.3, 0.3, 4, 1, 3, 3), "conv1_bias": U(-0.3, 0.3, 4),
               "conv2_weight": U(-0.2, 0.2, 8, 4, 3, 3), "conv2_bias": U(-0.2, 0.2, 8),
               "fc1_weight": U(-0.2, 0.2, 16, 32), "fc1_bias": U(-0.2, 0.2, 16),
               "fc2_weight": U(-0.25, 0.25, 10, 16), "fc2_bias": U(-0.25, 0.25, 10)}, lenet)


def main():
    torch.set_default_dtype(torch.float64)
    parts = ["# ignis nn reference fixtures: made by make_nn_fixtures.py from PyTorch "
             f"{torch.__version__.split('+')[0]}; do not edit by hand.\n"]
    for name, (inputs, op, differentiable) in CASES.items():
        for dtype_label in DTYPES:
            parts.append(make_case(name, inputs, op, differentiable, dtype_label))
    OUT.write_text("".join(parts))
    print(f"{len(CASES)} cases x {len(DTYPES)} dtypes -> {OUT.name}, "
          f"{OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
