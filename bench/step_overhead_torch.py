#!/usr/bin/env python3
"""Framework overhead in PyTorch (CPU): microseconds per training step of a 784-64-10 ReLU MLP
at batch 32 (zero_grad, forward, cross-entropy, backward, Adam step), the twin of
bench/step_overhead_bench.cpp. Not a training script: the batch is fixed random data.

  OMP_WAIT_POLICY=passive python3 bench/step_overhead_torch.py --threads 1 --repeats 5

Prints one line per repeat and the medians of wall-clock and process CPU time (all threads)
per step: "pytorch 2.x threads 1: 505.1 us/step wall, 498.0 us/step CPU (median of 5)". On a
shared machine CPU time is the steadier measure of the work done.
"""

import argparse
import statistics
import time

import torch
from torch import nn


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=2000, help="steps per repeat")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    criterion = nn.CrossEntropyLoss()
    x = torch.randn(32, 784)          # (B, 784)
    y = torch.randint(0, 10, (32,))   # (B,)

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(200):  # warm-up: allocator, Adam state
        step()
    wall, cpu = [], []
    for r in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            step()
        wall.append((time.perf_counter() - start) / args.steps * 1e6)
        cpu.append((time.process_time() - start_cpu) / args.steps * 1e6)
        print(f"repeat {r + 1}: {wall[-1]:.1f} us/step wall, {cpu[-1]:.1f} us/step CPU", flush=True)
    print(f"pytorch {torch.__version__} threads {args.threads}: "
          f"{statistics.median(wall):.1f} us/step wall, {statistics.median(cpu):.1f} us/step CPU "
          f"(median of {args.repeats})")


if __name__ == "__main__":
    main()
