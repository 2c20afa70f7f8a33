#!/usr/bin/env python3
"""Cross-entropy (class-index targets, mean), log_softmax and softmax over rows, float32,
PyTorch (CPU) side by side with ignis's bench/softmax_ce_bench on its shapes: the forward
alone, forward + backward through autograd, log_softmax and softmax over dim 1.

With --ignis, each repetition runs the ignis cases (one softmax_ce_bench process) and then
the PyTorch ones, alternating, so both see the same machine load; it prints the median
microseconds of each side and ignis / PyTorch. Without it, only PyTorch is measured.
A benchmark driver, not a test: it needs python3 with torch.

  bench/softmax_ce_torch.py [--ignis build/bench/softmax_ce_bench] [--threads 1] [--reps 5]
"""
import argparse
import json
import subprocess
import sys

from torch_side_by_side import alternate, mean_ms, print_medians  # sets OMP_WAIT_POLICY first
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SHAPES = [(128, 10), (256, 41), (4096, 1000)]  # (B, C), as softmax_ce_bench.cpp
KIND = {"forward": "BM_CrossEntropyForward", "forward+backward": "BM_CrossEntropyForwardBackward",
        "log_softmax": "BM_LogSoftmaxRows", "softmax": "BM_SoftmaxRows"}


def torch_cases():
    """{(kind, shape): microseconds} for one repetition."""
    out = {}
    for b, c in SHAPES:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(b, c, generator=gen)
        y = torch.randint(0, c, (b,), generator=gen)
        with torch.no_grad():
            out[("forward", (b, c))] = 1e3 * mean_ms(lambda: F.cross_entropy(x, y).item())
            out[("log_softmax", (b, c))] = 1e3 * mean_ms(lambda: torch.log_softmax(x, 1))
            out[("softmax", (b, c))] = 1e3 * mean_ms(lambda: torch.softmax(x, 1))
        xr = x.clone().requires_grad_()

        def train():
            F.cross_entropy(xr, y).backward()
            xr.grad = None

        out[("forward+backward", (b, c))] = 1e3 * mean_ms(train)
    return out


def ignis_cases(binary, threads):
    """{(kind, shape): microseconds} from one softmax_ce_bench run (real time)."""
    pattern = f"({'|'.join(KIND.values())})/B:.*/threads:{threads}/"
    result = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                             "--benchmark_min_time=0.2"], check=True, capture_output=True,
                            text=True)
    by_name = {r["name"]: r for r in json.loads(result.stdout)["benchmarks"]}
    out = {}
    for kind, prefix in KIND.items():
        for b, c in SHAPES:
            r = by_name[f"{prefix}/B:{b}/C:{c}/threads:{threads}/real_time"]
            scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[r["time_unit"]]
            out[(kind, (b, c))] = r["real_time"] * scale
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ignis", help="path of the softmax_ce_bench executable")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = alternate(args.reps, torch_cases,
                     (lambda: ignis_cases(args.ignis, args.threads)) if args.ignis else None)
    print(f"cross-entropy, log_softmax and softmax, float32, {args.threads} thread(s), medians of "
          f"{args.reps} (PyTorch {torch.__version__})")
    print_medians([((kind, shape), f"{kind} {shape}") for kind in KIND for shape in SHAPES],
                  runs, "us", 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
