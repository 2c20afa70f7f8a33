#!/usr/bin/env python3
"""Runs the text job with `ignis train` and with bench/text_job_torch.py on the same data and
settings, at each thread count, and prints seconds per training epoch, test scores and peak RSS.

A benchmark driver, not a test: it needs PyTorch and GNU time (/usr/bin/time, package `time`).

  python3 bench/text_job_side_by_side.py [--ignis build/apps/ignis] [--threads 1,2] [--epochs 5]

Both programs get identical flags (--epochs --batch-size --lr --weight-decay --embed-dim
--hidden --dropout --model --seed --min-freq [--bigrams] --threads) and the same
train/valid/test files (default datasets/wordnet). PyTorch runs with OMP_WAIT_POLICY=passive, so that idle OpenMP
threads do not spin. Seconds per epoch = the median over the epochs of the training loop's
seconds: ignis's --log-csv column train_seconds, PyTorch's JSON line. Test accuracy and
balanced accuracy (mean over the classes present in the truth of correct / count, as
sklearn's balanced_accuracy_score) are computed here from each predictions file and
test_labels.csv. Peak RSS is GNU time's "Maximum resident set size".
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ignis", default=os.path.join(ROOT, "build", "apps", "ignis"),
                   help="the ignis binary (default build/apps/ignis)")
    p.add_argument("--data", default=os.path.join(ROOT, "datasets", "wordnet"),
                   help="folder with train.csv, valid.csv, test.csv, test_labels.csv")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--frameworks", default="ignis,pytorch", help="which to run")
    p.add_argument("--workdir", help="where outputs go (default: a new temporary folder)")
    p.add_argument("--model", choices=("bag", "mlp"), default="bag")
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--min-freq", type=int, default=1)
    p.add_argument("--bigrams", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def job_flags(args, threads):
    flags = ["--train", os.path.join(args.data, "train.csv"),
             "--valid", os.path.join(args.data, "valid.csv"),
             "--test", os.path.join(args.data, "test.csv"),
             "--model", args.model, "--embed-dim", str(args.embed_dim),
             "--hidden", str(args.hidden), "--dropout", repr(args.dropout),
             "--epochs", str(args.epochs),
             "--batch-size", str(args.batch_size), "--lr", repr(args.lr),
             "--weight-decay", repr(args.weight_decay), "--min-freq", str(args.min_freq),
             "--seed", str(args.seed), "--threads", str(threads)]
    return flags + (["--bigrams"] if args.bigrams else [])


def run_timed(command, env, log_path, time_path):
    """Runs command under GNU time -v, stdout+stderr to log_path; returns peak RSS in MB."""
    with open(log_path, "w") as log:
        status = subprocess.run(["/usr/bin/time", "-v", "-o", time_path] + command,
                                stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    with open(log_path) as log:
        lines = log.read().splitlines()
    for line in lines:
        if line.startswith("[") and ("TRAIN" in line or "VALID" in line):
            print("    " + line)
    if status != 0:
        tail = "\n".join(lines[-5:])
        sys.exit(f"{command[0]} exited with status {status}; last lines of {log_path}:\n{tail}")
    with open(time_path) as f:
        for line in f:
            if "Maximum resident set size (kbytes)" in line:
                return int(line.rsplit(":", 1)[1]) / 1024
    sys.exit(f"{time_path}: no 'Maximum resident set size' line")


def read_column_pairs(path, key, value):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if key not in reader.fieldnames or value not in reader.fieldnames:
            sys.exit(f"{path}: expected columns '{key}' and '{value}', got {reader.fieldnames}")
        return {row[key]: row[value] for row in reader}


def score(predictions_path, labels_path):
    """(accuracy, balanced accuracy) of a predictions file against the true labels."""
    truth = read_column_pairs(labels_path, "id", "label")
    predicted = read_column_pairs(predictions_path, "id", "label")
    if predicted.keys() != truth.keys():
        sys.exit(f"{predictions_path}: its ids differ from those of {labels_path}")
    count, correct = {}, {}
    for row_id, label in truth.items():
        count[label] = count.get(label, 0) + 1
        correct[label] = correct.get(label, 0) + (predicted[row_id] == label)
    accuracy = sum(correct.values()) / len(truth)
    balanced = statistics.fmean(correct[c] / count[c] for c in count)
    return accuracy, balanced


def run_ignis(args, threads, workdir):
    out = os.path.join(workdir, f"ignis_t{threads}")
    command = [args.ignis, "train"] + job_flags(args, threads) + [
        "--out", out + "_submit.csv", "--log-csv", out + "_log.csv"]
    rss = run_timed(command, dict(os.environ), out + ".log", out + ".time")
    with open(out + "_log.csv", encoding="utf-8", newline="") as f:
        seconds = [float(row["train_seconds"]) for row in csv.DictReader(f)]
    return statistics.median(seconds), rss, out + "_submit.csv"


def run_pytorch(args, threads, workdir):
    out = os.path.join(workdir, f"pytorch_t{threads}")
    command = [sys.executable, os.path.join(HERE, "text_job_torch.py")] + job_flags(
        args, threads) + ["--out", out + "_submit.csv"]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    rss = run_timed(command, env, out + ".log", out + ".time")
    with open(out + ".log") as f:
        result = json.loads([line for line in f if line.startswith("{")][-1])
    return result["seconds_per_epoch"], rss, out + "_submit.csv"


def main():
    args = parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    frameworks = args.frameworks.split(",")
    runners = {"ignis": run_ignis, "pytorch": run_pytorch}
    if any(f not in runners for f in frameworks):
        sys.exit(f"--frameworks: expected names among {', '.join(runners)}")
    if "ignis" in frameworks and not os.access(args.ignis, os.X_OK):
        sys.exit(f"--ignis: no executable '{args.ignis}' (build the ignis_cli target first)")
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("/usr/bin/time not found: install GNU time (apt-get install time)")
    workdir = args.workdir or tempfile.mkdtemp(prefix="text_job_")
    os.makedirs(workdir, exist_ok=True)
    labels = os.path.join(args.data, "test_labels.csv")

    results = {}
    for t in threads:
        for framework in frameworks:
            print(f"{framework}, {t} thread(s):", flush=True)
            seconds, rss, predictions = runners[framework](args, t, workdir)
            results[framework, t] = (seconds, *score(predictions, labels), rss)

    print(f"\nmodel {args.model}, embed-dim {args.embed_dim}, epochs {args.epochs}, "
          f"batch-size {args.batch_size}, lr {args.lr}, weight-decay {args.weight_decay}, "
          f"min-freq {args.min_freq}, bigrams {'on' if args.bigrams else 'off'}; "
          f"outputs in {workdir}\n")
    print(f"{'framework':<10} {'threads':>7} {'s/epoch':>9} {'test acc':>9} "
          f"{'test bal acc':>12} {'peak RSS MB':>11}")
    for (framework, t), (seconds, acc, bal, rss) in results.items():
        print(f"{framework:<10} {t:>7} {seconds:>9.2f} {acc:>9.4f} {bal:>12.4f} {rss:>11.0f}")
    if set(frameworks) == {"ignis", "pytorch"}:
        print("\nignis / PyTorch at the same thread count (s/epoch and RSS: lower is better):")
        for t in threads:
            i, p = results["ignis", t], results["pytorch", t]
            print(f"  {t} thread(s): s/epoch {i[0] / p[0]:.2f}x, test acc {i[1] - p[1]:+.4f}, "
                  f"test bal acc {i[2] - p[2]:+.4f}, RSS {i[3] / p[3]:.2f}x")
        best_i = min(results[f, t] for f, t in results if f == "ignis")
        best_p = min(results[f, t] for f, t in results if f == "pytorch")
        print(f"  best thread setting each: s/epoch {best_i[0]:.2f} / {best_p[0]:.2f} = "
              f"{best_i[0] / best_p[0]:.2f}x")


if __name__ == "__main__":
    main()
