"""What the PyTorch side-by-side drivers of bench/ share (pool_torch.py, softmax_ce_torch.py):
timing one call as Google Benchmark does, alternating the ignis and PyTorch rounds, and the
table of medians and ratios. Importing it first sets OMP_WAIT_POLICY=passive, so that idle
OpenMP workers sleep as ignis's do (it must be set before torch loads OpenMP).
"""
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def mean_ms(fn, min_seconds=0.2):
    """Mean milliseconds of one call of fn over a run of at least min_seconds, as Google
    Benchmark measures real time (one warm-up call first)."""
    fn()
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) * 1e3 / calls


def alternate(reps, torch_round, ignis_round=None):
    """{"torch": [round, ...], "ignis": [...]}: reps rounds of each side, ignis first in each
    repetition (none when ignis_round is None), so that both see the same machine load."""
    runs = {"torch": [], "ignis": []}
    for _ in range(reps):
        if ignis_round is not None:
            runs["ignis"].append(ignis_round())
        runs["torch"].append(torch_round())
    return runs


def print_medians(cases, runs, unit, digits):
    """One line per (key, label) of cases: the median of each side over its rounds (dicts
    keyed by key, in `unit`), and ignis / PyTorch; '-' for ignis when it was not run."""
    print(f"{'case':<32}{'ignis ' + unit:>10}{'torch ' + unit:>10}{'ignis/torch':>13}")
    for key, label in cases:
        t = statistics.median(r[key] for r in runs["torch"])
        if runs["ignis"]:
            i = statistics.median(r[key] for r in runs["ignis"])
            print(f"{label:<32}{i:>10.{digits}f}{t:>10.{digits}f}{i / t:>13.2f}")
        else:
            print(f"{label:<32}{'-':>10}{t:>10.{digits}f}{'-':>13}")
