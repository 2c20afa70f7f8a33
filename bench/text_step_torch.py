#!/usr/bin/env python3
"""One training step of the text model in PyTorch (CPU), twin of bench/text_step_bench.cpp.

EmbeddingBag(V, D, mode='mean') -> Linear(D, C) -> cross-entropy -> Adam(lr 1e-3, weight_decay
1e-5) at V = 60000, D = 64, C = 41, B = 64 bags of 9..27 tokens (mean 18), 16 batches made
up front and cycled. Not the data pipeline. Prints one JSON line with the median us/step (wall
and process CPU) and the median wall us of the pieces (bag forward, bag backward, Adam step
over the table).

  OMP_WAIT_POLICY=passive python3 bench/text_step_torch.py --threads 2
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn

V, D, C, B, T = 60000, 64, 41, 64, 18
BATCHES = 16


def make_batches(gen):
    batches = []
    for _ in range(BATCHES):
        lengths = torch.randint(T // 2, T * 3 // 2 + 1, (B,), generator=gen)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)[:-1]])
        tokens = torch.randint(0, V, (int(lengths.sum()),), generator=gen)
        target = torch.randint(0, C, (B,), generator=gen)
        batches.append((tokens, offsets, target))
    return batches


def timed(fn, repeats, rounds):
    """Medians over `rounds` of the mean wall and process-CPU microseconds of `repeats`
    calls (CPU time sums every thread of the process: on a loaded machine wall time also
    counts the time others ran)."""
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fn()
        wall.append((time.perf_counter() - start) / repeats * 1e6)
        cpu.append((time.process_time() - start_cpu) / repeats * 1e6)
    return round(statistics.median(wall), 1), round(statistics.median(cpu), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = make_batches(torch.Generator().manual_seed(7))

    embedding = nn.EmbeddingBag(V, D, mode="mean")
    linear = nn.Linear(D, C)
    criterion = nn.CrossEntropyLoss()
    params = list(embedding.parameters()) + list(linear.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-5)
    counter = [0]

    def step():
        tokens, offsets, target = batches[counter[0] % BATCHES]
        counter[0] += 1
        optimizer.zero_grad()
        loss = criterion(linear(embedding(tokens, offsets)), target)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(20):
        step()
    step_us, step_cpu_us = timed(step, args.steps, args.rounds)

    tokens, offsets, _ = batches[0]

    def forward():
        embedding(tokens, offsets)

    out = embedding(tokens, offsets)
    dout = torch.randn(B, D)

    def backward():
        embedding.weight.grad = None
        out.backward(dout, retain_graph=True)

    embedding.weight.grad = torch.randn(V, D)
    table_optimizer = torch.optim.Adam([embedding.weight], lr=1e-3, weight_decay=1e-5)

    print(json.dumps({
        "library": "torch " + torch.__version__,
        "threads": args.threads,
        "step_us": step_us,
        "step_cpu_us": step_cpu_us,
        "embedding_bag_forward_us": timed(forward, args.steps, args.rounds)[0],
        "embedding_bag_backward_us": timed(backward, args.steps, args.rounds)[0],
        "adam_step_us": timed(table_optimizer.step, args.steps, args.rounds)[0],
    }))


if __name__ == "__main__":
    main()
