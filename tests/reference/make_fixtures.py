#!/usr/bin/env python3
"""Writes fixtures.txt: PyTorch's forward outputs and gradients for every differentiable op of
ignis, read by tests/autograd/reference_test.cpp. Not a test itself: it only needs PyTorch
when the fixtures are regenerated, never when the tests run.

Each case runs one op on fixed, seeded inputs in float32 and float64. The gradients are those
of loss = sum_i (out_i * w_i).sum(), with w_i a stored random weight per floating output.
Values are computed in float64 from the (exactly representable) inputs and rounded once to
the output's dtype, so a float32 reference is the correctly rounded answer, not PyTorch's own
float32 rounding. The case name states every parameter; the C++ table repeats the call.

File format (text, whitespace separated, one record per tensor):
    case <name> <dtype>
    <role> <tensor-name> <dtype> [<size>,<size>,...]      ([] for a 0-d tensor)
    <values, row-major>
    ...
    end
role is input, output, weight (named as its output) or grad (named as its input).
Floats are written as the shortest decimal that reads back to the same float32 / float64.
"""

import pathlib
import zlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).with_name("fixtures.txt")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ---- input specs: how each input is drawn (the rng is seeded per case) ----

class Spec:
    def __init__(self, shape, kind, low=0.0, high=1.0, values=None):
        self.shape, self.kind, self.low, self.high, self.values = shape, kind, low, high, values

    def draw(self, rng):
        if self.kind == "values":
            return np.array(self.values, dtype=np.float64).reshape(self.shape)
        if self.kind == "normal":
            return rng.standard_normal(self.shape)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, self.shape)
        if self.kind == "int_values":
            return np.array(self.values, dtype=np.int64).reshape(self.shape)
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), self.shape).astype(np.int64)
        if self.kind == "bool":
            return rng.random(self.shape) < 0.5
        raise ValueError(self.kind)


def N(*shape):                 # standard normal, floating (case dtype)
    return Spec(shape, "normal")


def U(low, high, *shape):      # uniform in [low, high), floating (case dtype)
    return Spec(shape, "uniform", low, high)


def V(values, *shape):         # fixed floating values (ties, special points)
    return Spec(shape, "values", values=values)


def I(high, *shape):           # int64 in [0, high)
    return Spec(shape, "int", 0, high)


def IV(values, *shape):        # fixed int64 values (repeated indices)
    return Spec(shape, "int_values", values=values)


def B(*shape):                 # bool
    return Spec(shape, "bool")


def F64(spec):                 # floating, but always float64 (mixed-dtype cases)
    spec.force = torch.float64
    return spec


# ---- the cases: name -> (inputs, op); must match the table in reference_test.cpp ----

CASES = {}


def case(name, inputs, op, differentiable=True):
    assert name not in CASES, name
    CASES[name] = (inputs, op, differentiable)


# Elementwise binary, with broadcasting and a non-contiguous operand.
case("add", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: x + y)
case("add_broadcast_row", {"x": N(3, 4), "y": N(4)}, lambda x, y: x + y)
case("add_broadcast_both", {"x": N(3, 1), "y": N(1, 4)}, lambda x, y: x + y)
case("add_broadcast_3d", {"x": N(2, 3, 4), "y": N(3, 1)}, lambda x, y: x + y)
case("add_transposed", {"x": N(4, 3), "y": N(3, 4)}, lambda x, y: x.t() + y)
case("add_alpha", {"x": N(3, 4), "y": N(4)}, lambda x, y: torch.add(x, y, alpha=2.5))
case("add_scalar", {"x": N(3, 4)}, lambda x: x + 2.5)
case("add_mixed_dtype", {"x": N(3, 4), "y": F64(N(4))}, lambda x, y: x + y)
case("sub", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: x - y)
case("sub_broadcast", {"x": N(4), "y": N(3, 4)}, lambda x, y: x - y)
case("sub_alpha", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: torch.sub(x, y, alpha=0.5))
case("rsub_scalar", {"x": N(3, 4)}, lambda x: 2.5 - x)
case("mul", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: x * y)
case("mul_broadcast", {"x": N(2, 3, 4), "y": N(4)}, lambda x, y: x * y)
case("mul_same_input", {"x": N(3, 4)}, lambda x: x * x)
case("mul_scalar", {"x": N(3, 4)}, lambda x: 3.0 * x)
case("div", {"x": N(3, 4), "y": U(0.5, 2.0, 3, 4)}, lambda x, y: x / y)
case("div_broadcast", {"x": N(3, 4), "y": U(0.5, 2.0, 3, 1)}, lambda x, y: x / y)
case("div_scalar", {"x": N(3, 4)}, lambda x: x / 4.0)
case("rdiv_scalar", {"x": U(0.5, 2.0, 3, 4)}, lambda x: 2.0 / x)
case("pow_tensor", {"x": U(0.5, 2.0, 3, 4), "y": N(3, 4)}, lambda x, y: torch.pow(x, y))
case("pow_tensor_broadcast", {"x": U(0.5, 2.0, 3, 4), "y": N(4)},
     lambda x, y: torch.pow(x, y))
case("pow_scalar_2", {"x": N(3, 4)}, lambda x: torch.pow(x, 2))
case("pow_scalar_3", {"x": N(3, 4)}, lambda x: torch.pow(x, 3))
case("pow_scalar_half", {"x": U(0.5, 2.0, 3, 4)}, lambda x: torch.pow(x, 0.5))
case("pow_scalar_neg", {"x": U(0.5, 2.0, 3, 4)}, lambda x: torch.pow(x, -1.5))
case("maximum", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: torch.maximum(x, y))
case("maximum_broadcast", {"x": N(3, 4), "y": N(4)}, lambda x, y: torch.maximum(x, y))
case("maximum_ties", {"x": V([1, 2, 3, 4, 5, 6], 2, 3), "y": V([1, 0, 3, 5, 5, 7], 2, 3)},
     lambda x, y: torch.maximum(x, y))
case("minimum", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: torch.minimum(x, y))
case("minimum_ties", {"x": V([1, 2, 3, 4, 5, 6], 2, 3), "y": V([1, 0, 3, 5, 5, 7], 2, 3)},
     lambda x, y: torch.minimum(x, y))

# Elementwise unary.
case("neg", {"x": N(3, 4)}, lambda x: -x)
case("abs", {"x": N(3, 4)}, lambda x: torch.abs(x))
case("exp", {"x": N(3, 4)}, lambda x: torch.exp(x))
case("exp_transposed", {"x": N(2, 3, 4)}, lambda x: torch.exp(x.transpose(0, 2)))
case("log", {"x": U(0.5, 3.0, 3, 4)}, lambda x: torch.log(x))
case("log1p", {"x": U(-0.5, 2.0, 3, 4)}, lambda x: torch.log1p(x))
case("sqrt", {"x": U(0.5, 3.0, 3, 4)}, lambda x: torch.sqrt(x))
case("rsqrt", {"x": U(0.5, 3.0, 3, 4)}, lambda x: torch.rsqrt(x))
case("square", {"x": N(3, 4)}, lambda x: torch.square(x))
case("clamp_both", {"x": N(3, 4)}, lambda x: torch.clamp(x, -0.5, 0.7))
case("clamp_min", {"x": N(3, 4)}, lambda x: torch.clamp(x, min=-0.3))
case("clamp_max", {"x": N(3, 4)}, lambda x: torch.clamp(x, max=0.4))
case("relu", {"x": N(3, 4)}, lambda x: torch.relu(x))
case("leaky_relu", {"x": N(3, 4)}, lambda x: torch.nn.functional.leaky_relu(x))
case("leaky_relu_slope", {"x": N(3, 4)}, lambda x: torch.nn.functional.leaky_relu(x, 0.2))
case("gelu", {"x": N(3, 4)}, lambda x: torch.nn.functional.gelu(x))
case("gelu_tanh", {"x": N(3, 4)}, lambda x: torch.nn.functional.gelu(x, approximate="tanh"))
case("silu", {"x": N(3, 4)}, lambda x: torch.nn.functional.silu(x))
case("tanh", {"x": N(3, 4)}, lambda x: torch.tanh(x))
case("sigmoid", {"x": N(3, 4)}, lambda x: torch.sigmoid(x))
case("chain_exp_log_mul", {"x": U(0.5, 2.0, 3, 4), "y": N(4)},
     lambda x, y: torch.log(x) * torch.exp(y) + x)

# Selection by mask.
case("where", {"c": B(3, 4), "x": N(3, 4), "y": N(3, 4)}, lambda c, x, y: torch.where(c, x, y))
case("where_broadcast", {"c": B(3, 1), "x": N(3, 4), "y": N(4)},
     lambda c, x, y: torch.where(c, x, y))
case("masked_fill", {"x": N(3, 4), "m": B(3, 4)}, lambda x, m: x.masked_fill(m, -1.5))
case("masked_fill_broadcast", {"x": N(3, 4), "m": B(4)}, lambda x, m: x.masked_fill(m, 2.0))

# Comparisons and arg-reductions: forward only (bool / int64 outputs).
case("gt", {"x": N(3, 4), "y": N(4)}, lambda x, y: x > y, differentiable=False)
case("le_scalar", {"x": N(3, 4)}, lambda x: x <= 0.25, differentiable=False)
case("eq", {"x": V([1, 2, 3, 4, 5, 6], 2, 3), "y": V([1, 0, 3, 5, 5, 7], 2, 3)},
     lambda x, y: x == y, differentiable=False)
case("argmax_dim1", {"x": N(3, 4)}, lambda x: torch.argmax(x, 1), differentiable=False)
case("argmin_all", {"x": N(3, 4)}, lambda x: torch.argmin(x), differentiable=False)
case("ne_lt_ge", {"x": V([1, 2, 3, 4, 5, 6], 2, 3), "y": V([1, 0, 3, 5, 5, 7], 2, 3)},
     lambda x, y: (x != y, x < y, x >= y), differentiable=False)
case("logical", {"p": B(3, 4), "q": B(4)},
     lambda p, q: (torch.logical_and(p, q), torch.logical_or(p, q), torch.logical_xor(p, q),
                   torch.logical_not(p)), differentiable=False)
case("isnan", {"x": V([1.0, float("nan"), -2.0, float("nan")], 2, 2)}, lambda x: torch.isnan(x),
     differentiable=False)
case("one_hot", {"i": I(5, 2, 3)}, lambda i: torch.nn.functional.one_hot(i, 5),
     differentiable=False)

# Reductions.
case("sum_all", {"x": N(2, 3, 4)}, lambda x: x.sum())
case("sum_dim1", {"x": N(2, 3, 4)}, lambda x: x.sum(1))
case("sum_dims02_keepdim", {"x": N(2, 3, 4)}, lambda x: x.sum((0, 2), keepdim=True))
case("sum_dim_neg1", {"x": N(2, 3, 4)}, lambda x: x.sum(-1))
case("sum_transposed", {"x": N(3, 4)}, lambda x: x.t().sum(1))
case("sum_dtype_float64", {"x": N(3, 4)}, lambda x: x.sum(dtype=torch.float64))
case("sum_empty", {"x": N(0, 3)}, lambda x: x.sum(0))
case("mean_all", {"x": N(2, 3, 4)}, lambda x: x.mean())
case("mean_dim0", {"x": N(2, 3, 4)}, lambda x: x.mean(0))
case("mean_dims12_keepdim", {"x": N(2, 3, 4)}, lambda x: x.mean((1, 2), keepdim=True))
case("prod_all", {"x": U(0.5, 1.5, 3, 4)}, lambda x: x.prod())
case("prod_dim1", {"x": U(0.5, 1.5, 3, 4)}, lambda x: x.prod(1))
case("prod_dim0_keepdim", {"x": N(3, 4)}, lambda x: x.prod(0, keepdim=True))
case("var_all", {"x": N(3, 4)}, lambda x: x.var())
case("var_all_correction0", {"x": N(3, 4)}, lambda x: x.var(correction=0))
case("var_dim1", {"x": N(2, 3, 4)}, lambda x: x.var(1))
case("var_dim1_correction0_keepdim", {"x": N(2, 3, 4)},
     lambda x: x.var(1, correction=0, keepdim=True))
case("std_all", {"x": N(3, 4)}, lambda x: x.std())
case("std_dim0_correction0", {"x": N(3, 4)}, lambda x: x.std(0, correction=0))
case("std_dims01_keepdim", {"x": N(2, 3, 4)}, lambda x: x.std((0, 1), keepdim=True))
case("amax_all", {"x": N(3, 4)}, lambda x: torch.amax(x))
case("amax_dim1", {"x": N(2, 3, 4)}, lambda x: torch.amax(x, 1))
case("amax_ties", {"x": V([1, 3, 3, 2, 5, 5, 5, 0], 2, 4)}, lambda x: torch.amax(x, 1))
case("amin_dims01_keepdim", {"x": N(2, 3, 4)}, lambda x: torch.amin(x, (0, 1), keepdim=True))
case("amin_ties", {"x": V([1, 0, 0, 2, -5, -5, 3, -5], 2, 4)}, lambda x: torch.amin(x))
case("max_all", {"x": N(3, 4)}, lambda x: torch.max(x))
case("min_all", {"x": N(3, 4)}, lambda x: torch.min(x))
case("max_dim1", {"x": N(3, 4)}, lambda x: tuple(torch.max(x, 1)))
case("max_dim0_keepdim", {"x": N(2, 3, 4)}, lambda x: tuple(torch.max(x, 0, keepdim=True)))
case("min_dim_neg1", {"x": N(2, 3, 4)}, lambda x: tuple(torch.min(x, -1)))
case("logsumexp_dim1", {"x": N(3, 4)}, lambda x: torch.logsumexp(x, 1))
case("logsumexp_dims01_keepdim", {"x": N(2, 3, 4)},
     lambda x: torch.logsumexp(x, (0, 1), keepdim=True))
case("logsumexp_large", {"x": U(80.0, 100.0, 3, 4)}, lambda x: torch.logsumexp(x, 0))
case("norm_p1_all", {"x": N(3, 4)}, lambda x: torch.linalg.vector_norm(x, 1))
case("norm_p2_all", {"x": N(3, 4)}, lambda x: torch.linalg.vector_norm(x, 2))
case("norm_p3_all", {"x": N(3, 4)}, lambda x: torch.linalg.vector_norm(x, 3))
case("norm_p2_dim1", {"x": N(2, 3, 4)}, lambda x: torch.linalg.vector_norm(x, 2, 1))
case("norm_p1_dim0_keepdim", {"x": N(3, 4)},
     lambda x: torch.linalg.vector_norm(x, 1, 0, keepdim=True))
case("norm_p3_dim_neg1", {"x": N(2, 3, 4)}, lambda x: torch.linalg.vector_norm(x, 3, -1))

# Matrix products.
case("matmul_1d_1d", {"a": N(4), "b": N(4)}, lambda a, b: torch.matmul(a, b))
case("matmul_1d_2d", {"a": N(3), "b": N(3, 4)}, lambda a, b: torch.matmul(a, b))
case("matmul_2d_1d", {"a": N(3, 4), "b": N(4)}, lambda a, b: torch.matmul(a, b))
case("matmul_2d_2d", {"a": N(3, 4), "b": N(4, 5)}, lambda a, b: torch.matmul(a, b))
case("matmul_2d_2d_transposed", {"a": N(4, 3), "b": N(5, 4)},
     lambda a, b: torch.matmul(a.t(), b.t()))
case("matmul_3d_3d", {"a": N(2, 3, 4), "b": N(2, 4, 5)}, lambda a, b: torch.matmul(a, b))
case("matmul_3d_2d", {"a": N(2, 3, 4), "b": N(4, 5)}, lambda a, b: torch.matmul(a, b))
case("matmul_2d_3d", {"a": N(3, 4), "b": N(2, 4, 5)}, lambda a, b: torch.matmul(a, b))
case("matmul_1d_3d", {"a": N(4), "b": N(2, 4, 5)}, lambda a, b: torch.matmul(a, b))
case("matmul_3d_1d", {"a": N(2, 3, 4), "b": N(4)}, lambda a, b: torch.matmul(a, b))
case("matmul_batch_broadcast", {"a": N(2, 1, 3, 4), "b": N(3, 4, 2)},
     lambda a, b: torch.matmul(a, b))
case("matmul_empty_inner", {"a": N(3, 0), "b": N(0, 2)}, lambda a, b: torch.matmul(a, b))
case("mm", {"a": N(3, 4), "b": N(4, 2)}, lambda a, b: torch.mm(a, b))
case("bmm", {"a": N(2, 3, 4), "b": N(2, 4, 2)}, lambda a, b: torch.bmm(a, b))
case("addmm", {"c": N(3, 2), "a": N(3, 4), "b": N(4, 2)}, lambda c, a, b: torch.addmm(c, a, b))
case("addmm_broadcast_beta_alpha", {"c": N(2), "a": N(3, 4), "b": N(4, 2)},
     lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0))
case("linear", {"x": N(3, 4), "w": N(2, 4), "b": N(2)},
     lambda x, w, b: torch.nn.functional.linear(x, w, b))
case("linear_no_bias", {"x": N(3, 4), "w": N(2, 4)},
     lambda x, w: torch.nn.functional.linear(x, w))
case("linear_3d", {"x": N(2, 3, 4), "w": N(5, 4), "b": N(5)},
     lambda x, w, b: torch.nn.functional.linear(x, w, b))
case("linear_relu", {"x": N(3, 4), "w": N(2, 4), "b": N(2)},
     lambda x, w, b: torch.relu(torch.nn.functional.linear(x, w, b)))
case("linear_tanh_3d", {"x": N(2, 3, 4), "w": N(5, 4), "b": N(5)},
     lambda x, w, b: torch.tanh(torch.nn.functional.linear(x, w, b)))
case("linear_sigmoid_no_bias", {"x": N(3, 4), "w": N(2, 4)},
     lambda x, w: torch.sigmoid(torch.nn.functional.linear(x, w)))

# Softmax.
case("softmax_dim1", {"x": N(3, 4)}, lambda x: torch.softmax(x, 1))
case("softmax_dim0", {"x": N(3, 4)}, lambda x: torch.softmax(x, 0))
case("softmax_3d_dim1", {"x": N(2, 3, 4)}, lambda x: torch.softmax(x, 1))
case("softmax_large", {"x": U(500.0, 520.0, 3, 4)}, lambda x: torch.softmax(x, -1))
case("log_softmax_dim1", {"x": N(3, 4)}, lambda x: torch.log_softmax(x, 1))
case("log_softmax_dim0", {"x": N(3, 4)}, lambda x: torch.log_softmax(x, 0))
case("log_softmax_3d_dim_neg1", {"x": N(2, 3, 4)}, lambda x: torch.log_softmax(x, -1))
case("softmax_transposed", {"x": N(4, 3)}, lambda x: torch.softmax(x.t(), 1))

# Indexing.
case("index_select_dim0", {"x": N(4, 3), "i": IV([2, 0, 2, 3, 1], 5)},
     lambda x, i: torch.index_select(x, 0, i))
case("index_select_dim2", {"x": N(2, 3, 4), "i": IV([3, 1, 3], 3)},
     lambda x, i: torch.index_select(x, 2, i))
case("gather_dim1", {"x": N(3, 4), "i": I(4, 3, 5)}, lambda x, i: torch.gather(x, 1, i))
case("gather_dim0", {"x": N(3, 4), "i": I(3, 2, 4)}, lambda x, i: torch.gather(x, 0, i))
case("scatter_add_dim0", {"x": N(3, 4), "i": I(3, 2, 4), "s": N(2, 4)},
     lambda x, i, s: torch.scatter_add(x, 0, i, s))
case("scatter_add_dim1", {"x": N(3, 4), "i": I(4, 3, 6), "s": N(3, 6)},
     lambda x, i, s: torch.scatter_add(x, 1, i, s))
case("embedding", {"w": N(5, 3), "i": IV([0, 2, 4, 2, 2, 1], 2, 3)},
     lambda w, i: torch.nn.functional.embedding(i, w))
case("embedding_1d", {"w": N(5, 3), "i": IV([4, 4, 0], 3)},
     lambda w, i: torch.nn.functional.embedding(i, w))

# Joining and splitting.
case("cat_dim0", {"x": N(2, 4), "y": N(3, 4)}, lambda x, y: torch.cat([x, y], 0))
case("cat_dim1_three", {"x": N(3, 1), "y": N(3, 2), "z": N(3, 4)},
     lambda x, y, z: torch.cat([x, y, z], 1))
case("cat_with_empty", {"x": N(0, 4), "y": N(2, 4)}, lambda x, y: torch.cat([x, y], 0))
case("cat_same_input", {"x": N(2, 3)}, lambda x: torch.cat([x, x], -1))
case("stack_dim0", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: torch.stack([x, y], 0))
case("stack_dim2", {"x": N(3, 4), "y": N(3, 4), "z": N(3, 4)},
     lambda x, y, z: torch.stack([x, y, z], 2))
case("split_dim0", {"x": N(5, 3)}, lambda x: tuple(torch.split(x, 2, 0)))
case("split_dim1", {"x": N(2, 5)}, lambda x: tuple(torch.split(x, 3, 1)))
case("chunk_dim1", {"x": N(3, 5)}, lambda x: tuple(torch.chunk(x, 3, 1)))
case("chunk_dim0", {"x": N(4, 2)}, lambda x: tuple(torch.chunk(x, 2, 0)))

# Views and copies.
case("view", {"x": N(3, 4)}, lambda x: x.view(2, 6))
case("view_infer", {"x": N(2, 3, 4)}, lambda x: x.view(-1, 4))
case("reshape", {"x": N(2, 3, 4)}, lambda x: x.reshape(4, 6))
case("reshape_transposed", {"x": N(3, 4)}, lambda x: x.t().reshape(12))
case("flatten", {"x": N(2, 3, 4)}, lambda x: torch.flatten(x))
case("flatten_1_2", {"x": N(2, 3, 4)}, lambda x: torch.flatten(x, 1, 2))
case("squeeze", {"x": N(3, 1, 4, 1)}, lambda x: torch.squeeze(x))
case("squeeze_dim1", {"x": N(3, 1, 4)}, lambda x: torch.squeeze(x, 1))
case("unsqueeze_dim0", {"x": N(3, 4)}, lambda x: torch.unsqueeze(x, 0))
case("unsqueeze_dim_neg1", {"x": N(3, 4)}, lambda x: torch.unsqueeze(x, -1))
case("permute", {"x": N(2, 3, 4)}, lambda x: x.permute(2, 0, 1))
case("transpose", {"x": N(2, 3, 4)}, lambda x: x.transpose(0, 2))
case("t", {"x": N(3, 4)}, lambda x: x.t())
case("narrow", {"x": N(3, 5)}, lambda x: x.narrow(1, 1, 3))
case("slice_step", {"x": N(7, 3)}, lambda x: x[1:6:2])
case("select_dim0", {"x": N(3, 4)}, lambda x: x.select(0, 1))
case("select_dim_neg1", {"x": N(2, 3, 4)}, lambda x: x.select(-1, 2))
case("expand", {"x": N(3, 1)}, lambda x: x.expand(3, 4))
case("expand_new_dims", {"x": N(4)}, lambda x: x.expand(2, 3, 4))
case("expand_as", {"x": N(1, 4), "y": N(3, 4)}, lambda x, y: x.expand_as(y))
case("broadcast_to", {"x": N(3, 1)}, lambda x: torch.broadcast_to(x, (2, 3, 4)))
case("sum_to", {"x": N(2, 3, 4)}, lambda x: x.sum(0).sum(1, keepdim=True))
case("contiguous_transposed", {"x": N(3, 4)}, lambda x: x.t().contiguous())
case("clone", {"x": N(3, 4)}, lambda x: x.clone())
case("detach", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: x * y.detach())
case("to_float64", {"x": N(3, 4)}, lambda x: x.to(torch.float64))
case("to_float32", {"x": N(3, 4)}, lambda x: x.to(torch.float32))
case("view_of_view_chain", {"x": N(2, 3, 4)},
     lambda x: x.transpose(1, 2).narrow(1, 1, 2).unsqueeze(0).select(1, 1))

# In place on a non-leaf (the gradient must flow through the modified tensor).
case("add_inplace", {"x": N(3, 4), "y": N(4)}, lambda x, y: (x * 1.0).add_(y, alpha=2.0))
case("mul_inplace", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: (x + 0.0).mul_(y))
case("div_scalar_inplace", {"x": N(3, 4)}, lambda x: (x * 2.0).div_(4.0))
case("sub_inplace", {"x": N(3, 4), "y": N(3, 4)}, lambda x, y: (x * 1.0).sub_(y, alpha=3.0))
case("add_scalar_inplace", {"x": N(3, 4)}, lambda x: (x * 2.0).add_(1.5))
case("mul_scalar_inplace", {"x": N(3, 4)}, lambda x: (x + 1.0).mul_(-2.0))
case("div_inplace", {"x": N(3, 4), "y": U(0.5, 2.0, 4)}, lambda x, y: (x * 1.0).div_(y))
case("copy_inplace", {"x": N(3, 4), "y": N(4)}, lambda x, y: (x * 1.0).copy_(y))
case("fill_inplace", {"x": N(3, 4)}, lambda x: (x * 1.0).fill_(0.25) * x)
case("zero_inplace", {"x": N(3, 4)}, lambda x: (x * 1.0).zero_() + x)
case("clamp_inplace", {"x": N(3, 4)}, lambda x: (x * 1.0).clamp_(-0.5, 0.5))


# ---- running a case and writing it ----

def fmt_values(t):
    a = t.detach().contiguous().view(-1)
    if t.dtype == torch.float32:
        return " ".join(str(np.float32(v)) for v in a.numpy())
    if t.dtype == torch.float64:
        return " ".join(repr(float(v)) for v in a.numpy())
    if t.dtype == torch.bool:
        return " ".join("1" if v else "0" for v in a.numpy())
    return " ".join(str(int(v)) for v in a.numpy())


def dtype_name(dt):
    return str(dt).replace("torch.", "")


def record(role, name, t):
    shape = "[" + ",".join(map(str, t.shape)) + "]"
    return f"{role} {name} {dtype_name(t.dtype)} {shape}\n{fmt_values(t)}\n"


def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def make_case(name, inputs, op, differentiable, dtype_label):
    case_dtype = DTYPES[dtype_label]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = {k: spec.draw(rng) for k, spec in inputs.items()}
    # The case's own-dtype inputs, and the same values widened to float64 for the reference.
    typed, wide = {}, {}
    for k, spec in inputs.items():
        a = arrays[k]
        if spec.kind in ("int", "int_values", "bool"):
            t = torch.from_numpy(a)
            typed[k], wide[k] = t, t
            continue
        dt = getattr(spec, "force", case_dtype)
        t = torch.from_numpy(a).to(dt)
        typed[k] = t
        wide[k] = t.to(torch.float64).requires_grad_(differentiable)

    out_typed = as_list(op(**typed))  # only for the output dtypes
    out_wide = as_list(op(**wide))
    text = f"case {name} {dtype_label}\n"
    for k, t in typed.items():
        text += record("input", k, t)
    outs = []
    for i, (ot, ow) in enumerate(zip(out_typed, out_wide)):
        oname = f"out{i}"
        outs.append((oname, ow, ot.dtype))
        text += record("output", oname, ow.detach().to(ot.dtype))
    if differentiable:
        loss = 0.0
        for oname, ow, odt in outs:
            if not odt.is_floating_point:
                continue
            w = torch.from_numpy(rng.standard_normal(tuple(ow.shape))).to(odt)
            text += record("weight", oname, w)
            loss = loss + (ow * w.to(torch.float64)).sum()
        loss.backward()
        for k, t in wide.items():
            if not t.is_floating_point():
                continue
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            text += record("grad", k, g.to(typed[k].dtype))
    return text + "end\n"


def main():
    torch.set_default_dtype(torch.float64)
    parts = ["# ignis reference fixtures: made by make_fixtures.py from PyTorch "
             f"{torch.__version__.split('+')[0]}; do not edit by hand.\n"]
    for name, (inputs, op, differentiable) in CASES.items():
        for dtype_label in DTYPES:
            parts.append(make_case(name, inputs, op, differentiable, dtype_label))
    OUT.write_text("".join(parts))
    print(f"{len(CASES)} cases x {len(DTYPES)} dtypes -> {OUT.name}, "
          f"{OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
