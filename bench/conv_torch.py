#!/usr/bin/env python3
"""PyTorch's conv2d (CPU) on the Fashion-MNIST CNN's two convolutions at batch 128: forward,
backward to the input, backward to the weight and bias, in GFLOP/s (2 N O K L per pass), the
twin of bench/conv_bench.cpp. Not a training script: the tensors are fixed random data.

With --ignis BINARY (a built conv_bench) it runs the two side by side, alternating, one round
of each per repeat, and prints the medians and the ratios of times ignis / PyTorch:

  IGNIS_NUM_THREADS=1 OMP_WAIT_POLICY=passive \\
      python3 bench/conv_torch.py --threads 1 --repeats 5 --ignis build/bench/conv_bench
"""

import argparse
import json
import statistics
import subprocess
import time

import torch

# (name, N, C, H, W, O, k): as conv_bench.cpp; stride 1, padding k // 2.
SHAPES = [("conv1_1x28x28_to_32", 128, 1, 28, 28, 32, 3),
          ("conv2_32x14x14_to_64", 128, 32, 14, 14, 64, 3)]
PASSES = ["conv_forward", "conv_backward_input", "conv_backward_weight"]


def flops(shape):
    _, n, c, h, w, o, k = shape
    return 2.0 * n * o * c * k * k * h * w


def time_call(fn, min_seconds):
    """Process CPU seconds per call (all threads; on a shared machine the steadier measure of
    the work done): warm up, then as many calls as fill min_seconds of CPU time."""
    for _ in range(2):
        fn()
    calls, start = 0, time.process_time()
    while True:
        fn()
        calls += 1
        elapsed = time.process_time() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def torch_round(min_seconds):
    """{benchmark name: CPU seconds per call} for every shape and pass."""
    out = {}
    for shape in SHAPES:
        name, n, c, h, w, o, k = shape
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, c, h, w, generator=g)         # (N, C, H, W)
        weight = torch.randn(o, c, k, k, generator=g)    # (O, C, k, k)
        bias = torch.randn(o, generator=g)               # (O)
        dout = torch.randn(n, o, h, w, generator=g)      # (N, O, H, W)
        pad = [k // 2, k // 2]

        def backward(mask):
            return torch.ops.aten.convolution_backward(
                dout, x, weight, [o], [1, 1], pad, [1, 1], False, [0, 0], 1, mask)

        with torch.no_grad():
            fns = {"conv_forward": lambda: torch.nn.functional.conv2d(x, weight, bias, 1, pad),
                   "conv_backward_input": lambda: backward([True, False, False]),
                   "conv_backward_weight": lambda: backward([False, True, True])}
            for p in PASSES:
                out[f"{p}/{name}"] = time_call(fns[p], min_seconds)
    return out


def ignis_round(binary, min_seconds):
    """{benchmark name: CPU seconds per call} from one run of conv_bench."""
    res = subprocess.run([binary, "--benchmark_format=json", "--benchmark_filter=conv_",
                          f"--benchmark_min_time={min_seconds}"],
                         check=True, capture_output=True, text=True)
    out = {}
    for b in json.loads(res.stdout)["benchmarks"]:
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        out[b["name"].removesuffix("/process_time")] = b["cpu_time"] * scale
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    p.add_argument("--ignis", help="path of a built conv_bench, to run side by side")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    rounds_torch, rounds_ignis = [], []
    for r in range(args.repeats):
        if args.ignis:
            rounds_ignis.append(ignis_round(args.ignis, args.min_time))
        rounds_torch.append(torch_round(args.min_time))
        print(f"round {r + 1}/{args.repeats} done", flush=True)

    print(f"pytorch {torch.__version__}, {args.threads} thread(s); medians of {args.repeats}; "
          "GFLOP/s (CPU ms per call)")
    header = f"{'benchmark':44} {'pytorch':>18}"
    if args.ignis:
        header += f" {'ignis':>18} {'time ignis/pytorch':>19}"
    print(header)
    for shape in SHAPES:
        for pass_name in PASSES:
            key = f"{pass_name}/{shape[0]}"
            t_torch = statistics.median(r[key] for r in rounds_torch)
            line = f"{key:44} {flops(shape) / t_torch / 1e9:8.1f} ({t_torch * 1e3:6.2f} ms)"
            if args.ignis:
                t_ignis = statistics.median(r[key] for r in rounds_ignis)
                line += (f" {flops(shape) / t_ignis / 1e9:8.1f} ({t_ignis * 1e3:6.2f} ms)"
                         f" {t_ignis / t_torch:19.2f}")
            print(line)


if __name__ == "__main__":
    main()
