#!/usr/bin/env python3
"""2x2 stride-2 max pooling on the Fashion-MNIST CNN's shapes, PyTorch (CPU) side by side with
ignis's bench/pool_bench: forward (values and indices), backward (the scatter of the gradient
to the argmax), and a training pass (forward + backward through autograd), float32.

With --ignis, each repetition runs the ignis cases (one pool_bench process) and then the
PyTorch ones, alternating, so both see the same machine load; it prints the median
milliseconds of each side and ignis / PyTorch. Without it, only PyTorch is measured.
A benchmark driver, not a test: it needs python3 with torch.

  bench/pool_torch.py [--ignis build/bench/pool_bench] [--threads 1] [--reps 5]
"""
import argparse
import json
import subprocess
import sys

from torch_side_by_side import alternate, mean_ms, print_medians  # sets OMP_WAIT_POLICY first
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SHAPES = {0: (128, 32, 28, 28), 1: (128, 64, 14, 14)}
KIND = {"forward": "BM_MaxPool2dForward", "backward": "BM_MaxPool2dBackward",
        "train": "BM_MaxPool2dTrain"}
K, S, P, D = [2, 2], [2, 2], [0, 0], [1, 1]


def torch_cases():
    """{(kind, shape): milliseconds} for one repetition."""
    out = {}
    for which, shape in SHAPES.items():
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(shape, generator=gen)
        values, indices = torch.ops.aten.max_pool2d_with_indices(x, K, S, P, D, False)
        g = torch.randn(values.shape, generator=gen)
        out[("forward", which)] = mean_ms(
            lambda: torch.ops.aten.max_pool2d_with_indices(x, K, S, P, D, False))
        out[("backward", which)] = mean_ms(
            lambda: torch.ops.aten.max_pool2d_with_indices_backward(g, x, K, S, P, D, False,
                                                                    indices))
        xr = x.clone().requires_grad_()

        def train():
            F.max_pool2d(xr, 2).backward(g)
            xr.grad = None

        out[("train", which)] = mean_ms(train)
    return out


def ignis_cases(binary, threads):
    """{(kind, shape): milliseconds} from one pool_bench run (real time)."""
    pattern = f"({'|'.join(KIND.values())})/shape:[01]/threads:{threads}/"
    result = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                             "--benchmark_min_time=0.2"], check=True, capture_output=True,
                            text=True)
    by_name = {b["name"]: b for b in json.loads(result.stdout)["benchmarks"]}
    out = {}
    for kind, prefix in KIND.items():
        for which in SHAPES:
            b = by_name[f"{prefix}/shape:{which}/threads:{threads}/real_time"]
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0}[b["time_unit"]]
            out[(kind, which)] = b["real_time"] * scale
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ignis", help="path of the pool_bench executable")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = alternate(args.reps, torch_cases,
                     (lambda: ignis_cases(args.ignis, args.threads)) if args.ignis else None)
    print(f"max_pool2d 2x2 stride 2, float32, {args.threads} thread(s), medians of {args.reps} "
          f"(PyTorch {torch.__version__})")
    print_medians([((kind, which), f"{kind} {tuple(shape)}") for kind in KIND
                   for which, shape in SHAPES.items()], runs, "ms", 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
