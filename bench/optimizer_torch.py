#!/usr/bin/env python3
"""One torch.optim step on the parameters of bench/optimizer_bench.cpp, timed the same way.

The twin of bench/optimizer_bench.cpp for PyTorch (CPU): Adam (lr 1e-3, weight decay 1e-5),
AdamW (lr 1e-3, weight decay 1e-2), SGD (lr 1e-2, momentum 0.9) and zero_grad, each with
foreach=False (a loop over the tensors) and foreach=True (multi-tensor kernels), and fused=True
where this PyTorch has it on the CPU, over the 784-512-256-10 mlp's 6 tensors and over one
60000 x 64 table. Gradients are fixed and the first step (state allocation) is not timed.
Prints, per case, the medians over --repeats runs of wall and process-CPU microseconds per
step, and GB/s from each, counted as the C++ suite counts them (Adam/AdamW 28 B per
parameter, SGD with momentum 20, zero_grad filling zeros 4). A benchmark driver, not a test.

  python3 bench/optimizer_torch.py --threads 1 --repeats 7
"""

import argparse
import statistics
import time

import torch

SETS = {
    "mlp": [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)],
    "table": [(60000, 64)],
}


def make_params(shapes):
    gen = torch.Generator().manual_seed(0)
    params = []
    for shape in shapes:
        p = torch.nn.Parameter(torch.randn(shape, generator=gen) * 0.01)
        p.grad = torch.randn(shape, generator=gen)
        params.append(p)
    return params


def optimizers():
    """(name, bytes per parameter, factory(params, mode)) for each optimizer; mode is the
    implementation keyword: {"foreach": False}, {"foreach": True} or {"fused": True}."""
    return [
        ("Adam", 28, lambda ps, mode: torch.optim.Adam(ps, lr=1e-3, weight_decay=1e-5, **mode)),
        ("AdamW", 28, lambda ps, mode: torch.optim.AdamW(ps, lr=1e-3, **mode)),
        ("SGDMomentum", 20, lambda ps, mode: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, **mode)),
    ]


def time_calls(fn, min_seconds):
    """(wall, process CPU) seconds per call of fn, over as many calls as fill min_seconds
    (at least 3). NOTE: on a shared machine the CPU time is the steadier of the two."""
    calls, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= 3 and elapsed >= min_seconds:
            return elapsed / calls, (time.process_time() - cpu_start) / calls


def report(name, set_name, mode, runs, bytes_moved):
    """Prints the medians over runs of wall and CPU microseconds per call, and GB/s of each."""
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    gbs = (f"{bytes_moved / wall / 1e9:8.2f} {bytes_moved / cpu / 1e9:8.2f}" if bytes_moved
           else f"{'-':>8} {'-':>8}")
    print(f"{name:<18} {set_name:<6} {mode:<14} {wall * 1e6:10.1f} {cpu * 1e6:10.1f} {gbs}",
          flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5, help="runs per case; the median is printed")
    p.add_argument("--min-seconds", type=float, default=0.3, help="length of one run")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s); median of {args.repeats} runs")
    print(f"{'case':<18} {'set':<6} {'mode':<14} {'wall us':>10} {'cpu us':>10} {'GB/s':>8} "
          f"{'cpu GB/s':>8}")
    modes = [("foreach=False", {"foreach": False}), ("foreach=True", {"foreach": True}),
             ("fused=True", {"fused": True})]
    for set_name, shapes in SETS.items():
        params = make_params(shapes)
        n = sum(q.numel() for q in params)
        for name, bytes_per_param, make in optimizers():
            for mode_name, mode in modes:
                try:
                    optimizer = make(params, mode)
                    optimizer.step()
                except (RuntimeError, TypeError, ValueError) as error:
                    print(f"{name:<18} {set_name:<6} {mode_name:<14} unsupported: "
                          f"{str(error).splitlines()[0]}")
                    continue
                runs = [time_calls(optimizer.step, args.min_seconds) for _ in range(args.repeats)]
                report(name, set_name, mode_name, runs, bytes_per_param * n)
        grads = [q.grad for q in params]
        optimizer = torch.optim.SGD(params, lr=1e-2)

        def zero_fill():
            optimizer.zero_grad(set_to_none=False)

        def zero_none():
            for q, g in zip(params, grads):
                q.grad = g
            optimizer.zero_grad()

        runs = [time_calls(zero_fill, args.min_seconds) for _ in range(args.repeats)]
        report("ZeroGradFill", set_name, "", runs, 4 * n)
        runs = [time_calls(zero_none, args.min_seconds) for _ in range(args.repeats)]
        report("ZeroGradSetToNone", set_name, "", runs, 0)


if __name__ == "__main__":
    main()
