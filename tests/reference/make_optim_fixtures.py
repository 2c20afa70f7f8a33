#!/usr/bin/env python3
"""Writes optim_fixtures.txt: PyTorch's parameter trajectories for ignis's optimizers, its
learning-rate schedules and its gradient clipping, read by tests/optim/*_test.cpp. Not a test
itself: it only needs PyTorch when the fixtures are regenerated, never when the tests run.

The format is fixtures.txt's (see make_fixtures.py and README.md), read by
tests/support/fixture.h. Three kinds of case, told apart by their name:

- optimizer cases (sgd_*, adam*, rmsprop*), in float32 and float64: inputs p<i> (the initial
  parameters) and g<s>.<i> (the gradient of parameter i at step s; absent when the parameter
  has no gradient at that step), outputs p<i>.<s> (parameter i after step s; every step, but
  for the larger EmbeddingBag set only steps 0, 1, 2, 4, 9, 14 and 19). PyTorch runs
  them in the case's dtype with its single-tensor CPU path (foreach=False), so the reference
  is PyTorch's own rounding, step after step.
- scheduler cases (*lr*), float64: output lr (steps + 1, groups), the learning rate of each
  group after construction and after each step; momentum or beta1 when the schedule cycles
  it; input metrics for ReduceLROnPlateau.
- clipping cases (clip_*), in both dtypes: inputs g<i>, outputs total_norm and g<i> clipped.

The case name states the options; the C++ tests repeat them in their tables.
"""

import math
import pathlib
import warnings
import zlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).with_name("optim_fixtures.txt")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
STEPS = 20
SCHEDULER_STEPS = 100

SMALL = [(3, 4), (5,)]
# An EmbeddingBag table, then a Linear's weight and bias: the seed model's parameters.
BAG = [(50, 8), (5, 8), (5,)]
BAG_RECORDED_STEPS = {0, 1, 2, 4, 9, 14, 19}

O = torch.optim


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def fmt_values(t):
    a = t.detach().reshape(-1)
    if a.dtype == torch.float32:
        return " ".join(str(np.float32(v)) for v in a.numpy())
    if a.dtype == torch.float64:
        return " ".join(repr(float(v)) for v in a.numpy())
    return " ".join(str(int(v)) for v in a.numpy())


def record(lines, role, name, t):
    dtype = str(t.dtype).replace("torch.", "")
    shape = "[" + ",".join(str(s) for s in t.shape) + "]"
    lines.append(f"{role} {name} {dtype} {shape}")
    lines.append(fmt_values(t))


# ---- optimizers ----

def opt_case(name, make, shapes=SMALL, skip=()):
    """make(params) -> optimizer; skip: (step, param) pairs with no gradient."""
    return (name, make, shapes, set(skip))


def groups(params, *options):
    return [dict(params=[p], **o) for p, o in zip(params, options)]


OPTIMIZER_CASES = [
    opt_case("sgd", lambda p: O.SGD(p, lr=0.1, foreach=False)),
    opt_case("sgd_momentum", lambda p: O.SGD(p, lr=0.05, momentum=0.9, foreach=False),
             skip=[(3, 1), (7, 1)]),
    opt_case("sgd_nesterov",
             lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, foreach=False)),
    opt_case("sgd_dampening",
             lambda p: O.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, foreach=False)),
    opt_case("sgd_weight_decay",
             lambda p: O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, foreach=False)),
    opt_case("sgd_maximize",
             lambda p: O.SGD(p, lr=0.1, weight_decay=0.1, maximize=True, foreach=False)),
    opt_case("sgd_groups", lambda p: O.SGD(groups(p, dict(lr=0.1, momentum=0.9), {}),
                                           lr=0.01, foreach=False)),
    opt_case("adam", lambda p: O.Adam(p, foreach=False)),
    opt_case("adam_weight_decay", lambda p: O.Adam(p, lr=1e-3, weight_decay=1e-5, foreach=False)),
    opt_case("adam_amsgrad",
             lambda p: O.Adam(p, lr=1e-2, betas=(0.8, 0.99), amsgrad=True, foreach=False),
             skip=[(3, 1), (7, 1)]),
    opt_case("adam_maximize",
             lambda p: O.Adam(p, lr=1e-2, weight_decay=0.1, maximize=True, foreach=False)),
    opt_case("adam_groups",
             lambda p: O.Adam(groups(p, dict(weight_decay=0.1), dict(lr=0.05, eps=1e-6)),
                              lr=1e-2, foreach=False)),
    opt_case("adam_bag", lambda p: O.Adam(p, lr=1e-3, weight_decay=1e-5, foreach=False), BAG),
    opt_case("adamw", lambda p: O.AdamW(p, lr=1e-2, foreach=False)),
    opt_case("adamw_amsgrad",
             lambda p: O.AdamW(p, lr=1e-2, weight_decay=0.1, amsgrad=True, foreach=False)),
    opt_case("rmsprop", lambda p: O.RMSprop(p, lr=1e-2, foreach=False)),
    opt_case("rmsprop_centered",
             lambda p: O.RMSprop(p, lr=1e-2, centered=True, weight_decay=0.01, foreach=False)),
    opt_case("rmsprop_momentum",
             lambda p: O.RMSprop(p, lr=1e-2, alpha=0.9, momentum=0.9, foreach=False),
             skip=[(5, 0)]),
    opt_case("rmsprop_centered_momentum",
             lambda p: O.RMSprop(p, lr=1e-3, centered=True, momentum=0.5, eps=1e-6,
                                 foreach=False)),
]


def draw_gradient(rng, shape, bag_table):
    g = rng.standard_normal(shape) * 0.5
    if bag_table:  # an EmbeddingBag's gradient: only the rows of this batch's tokens
        rows = rng.choice(shape[0], size=shape[0] - 10, replace=False)
        g[rows] = 0.0
    return g


def optimizer_case(lines, name, make, shapes, skip, dtype_name):
    rng = rng_for(name)
    dtype = DTYPES[dtype_name]
    init = [torch.tensor(rng.standard_normal(s), dtype=dtype) for s in shapes]
    grads = [[None if (s, i) in skip else
              torch.tensor(draw_gradient(rng, shape, shapes is BAG and i == 0), dtype=dtype)
              for i, shape in enumerate(shapes)] for s in range(STEPS)]
    params = [p.clone().requires_grad_() for p in init]
    opt = make(params)
    lines.append(f"case {name} {dtype_name}")
    for i, p in enumerate(init):
        record(lines, "input", f"p{i}", p)
    for s in range(STEPS):
        for i, p in enumerate(params):
            g = grads[s][i]
            p.grad = None if g is None else g.clone()
            if g is not None:
                record(lines, "input", f"g{s}.{i}", g)
        opt.step()
        if shapes is BAG and s not in BAG_RECORDED_STEPS:
            continue
        for i, p in enumerate(params):
            record(lines, "output", f"p{i}.{s}", p)
    lines.append("end")


# ---- learning-rate schedulers ----

def sgd_two_groups():
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return O.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.05}],
                 lr=0.1, momentum=0.9)


def adam_two_groups():
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return O.Adam([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.05}])


def plateau_metrics(rng):
    """A loss that falls, stalls with noise, falls again, then rises."""
    t = np.arange(SCHEDULER_STEPS)
    base = np.where(t < 30, 1.0 - 0.02 * t, 0.4)
    base = np.where(t >= 60, 0.4 - 0.01 * (t - 60), base)
    base = np.where(t >= 80, 0.2 + 0.02 * (t - 80), base)
    return base + rng.normal(0.0, 0.01, SCHEDULER_STEPS)


S = O.lr_scheduler

# name -> (make optimizer, make scheduler(optimizer), what else to record)
SCHEDULER_CASES = {
    "steplr": (sgd_two_groups, lambda o: S.StepLR(o, step_size=7, gamma=0.5), None),
    "multisteplr": (sgd_two_groups,
                    lambda o: S.MultiStepLR(o, milestones=[10, 25, 25, 60], gamma=0.3), None),
    "exponentiallr": (sgd_two_groups, lambda o: S.ExponentialLR(o, gamma=0.97), None),
    "cosineannealinglr": (sgd_two_groups, lambda o: S.CosineAnnealingLR(o, T_max=100), None),
    "cosineannealinglr_restarts": (sgd_two_groups,
                                   lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
                                   None),
    "linearlr": (sgd_two_groups,
                 lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=10),
                 None),
    "linearlr_decay": (sgd_two_groups,
                       lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=40),
                       None),
    "onecyclelr_cos": (sgd_two_groups,
                       lambda o: S.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=100), "momentum"),
    "onecyclelr_linear_three_phase": (
        adam_two_groups,
        lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=100, pct_start=0.25,
                               anneal_strategy="linear", three_phase=True, div_factor=10.0,
                               final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
        "beta1"),
    "onecyclelr_no_momentum": (
        sgd_two_groups,
        lambda o: S.OneCycleLR(o, max_lr=0.4, epochs=4, steps_per_epoch=25, pct_start=0.4,
                               cycle_momentum=False),
        "momentum"),
    "reducelronplateau_min_rel": (
        sgd_two_groups,
        lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=3, threshold=1e-2,
                                      cooldown=2, min_lr=1e-3),
        None),
    "reducelronplateau_max_abs": (
        sgd_two_groups,
        lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=2, threshold=0.05,
                                      threshold_mode="abs", min_lr=[0.01, 0.002]),
        None),
    "sequentiallr_warmup_cosine": (
        sgd_two_groups,
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                     S.CosineAnnealingLR(o, T_max=95)], milestones=[5]),
        None),
    "sequentiallr_three": (
        sgd_two_groups,
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=4),
                                     S.ExponentialLR(o, gamma=0.95),
                                     S.StepLR(o, step_size=10, gamma=0.5)],
                                 milestones=[10, 50]),
        None),
}


def scheduler_case(lines, name, make_optimizer, make_scheduler, extra):
    opt = make_optimizer()
    sched = make_scheduler(opt)
    plateau = isinstance(sched, S.ReduceLROnPlateau)
    metrics = plateau_metrics(rng_for(name)) if plateau else None

    def extra_value(group):
        return group["betas"][0] if extra == "beta1" else group["momentum"]

    lrs = [list(sched.get_last_lr())]
    extras = [[extra_value(g) for g in opt.param_groups]] if extra else []
    for s in range(SCHEDULER_STEPS):
        opt.step()
        if plateau:
            sched.step(float(metrics[s]))
        else:
            sched.step()
        lrs.append(list(sched.get_last_lr()))
        if extra:
            extras.append([extra_value(g) for g in opt.param_groups])
    lines.append(f"case {name} float64")
    if plateau:
        record(lines, "input", "metrics", torch.tensor(metrics, dtype=torch.float64))
    record(lines, "output", "lr", torch.tensor(lrs, dtype=torch.float64))
    if extra:
        record(lines, "output", extra, torch.tensor(extras, dtype=torch.float64))
    lines.append("end")


# ---- gradient clipping ----

CLIP_SHAPES = [(3, 4), (5,), (2, 2, 2)]

# name -> (max_norm, norm_type) for clip_grad_norm_, or clip_value for clip_grad_value_
CLIP_CASES = {
    "clip_norm_2_clipped": ("norm", 1.0, 2.0),
    "clip_norm_2_unclipped": ("norm", 100.0, 2.0),
    "clip_norm_1": ("norm", 2.0, 1.0),
    "clip_norm_3": ("norm", 0.5, 3.0),
    "clip_norm_inf": ("norm", 0.25, math.inf),
    "clip_value": ("value", 0.3, None),
}


def clip_case(lines, name, kind, bound, norm_type, dtype_name):
    rng = rng_for(name)
    dtype = DTYPES[dtype_name]
    grads = [torch.tensor(rng.standard_normal(s), dtype=dtype) for s in CLIP_SHAPES]
    params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in CLIP_SHAPES]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    lines.append(f"case {name} {dtype_name}")
    for i, g in enumerate(grads):
        record(lines, "input", f"g{i}", g)
    if kind == "norm":
        total = torch.nn.utils.clip_grad_norm_(params, bound, norm_type, foreach=False)
        record(lines, "output", "total_norm", total)
    else:
        torch.nn.utils.clip_grad_value_(params, bound, foreach=False)
    for i, p in enumerate(params):
        record(lines, "output", f"g{i}", p.grad)
    lines.append("end")


def main():
    warnings.simplefilter("ignore")
    lines = [f"# ignis optimizer fixtures: made by make_optim_fixtures.py from PyTorch "
             f"{torch.__version__.split('+')[0]}; do not edit by hand."]
    for dtype_name in DTYPES:
        for name, make, shapes, skip in OPTIMIZER_CASES:
            optimizer_case(lines, name, make, shapes, skip, dtype_name)
    for name, (make_optimizer, make_scheduler, extra) in SCHEDULER_CASES.items():
        scheduler_case(lines, name, make_optimizer, make_scheduler, extra)
    for dtype_name in DTYPES:
        for name, (kind, bound, norm_type) in CLIP_CASES.items():
            clip_case(lines, name, kind, bound, norm_type, dtype_name)
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
