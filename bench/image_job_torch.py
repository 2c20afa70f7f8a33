#!/usr/bin/env python3
"""The `ignis train-images` job in PyTorch (CPU), the reference for bench/image_job_side_by_side.sh.

Same files, pixel standardisation ((p / 255 - mean) / std with the mean and std of the training
pixels used), models, initial distributions (--init pytorch|he), optimizer (Adam, L2 weight
decay), learning-rate schedule (--lr-schedule cosine|constant), loss, batch size, epochs and
batch order (ignis's DataLoader shuffle, imported from text_job_torch.py) as the C++ CLI; only
the initial weights differ (each library has its own generator), unless both start from one
file: --save-init F here, then --init-from F on both sides. From the same weights the two
agree to ~1e-7 (relative loss) for the first ~80 steps; after that float rounding differences
grow as they do between PyTorch runs with 1 and 2 threads (~1e-3 by step 100), so per-epoch
metrics then differ by run-to-run noise. Not a general training script. Train metrics are
those of an evaluation pass over the training set after each epoch (as the CLI does); the
per-epoch train seconds cover the training loop only (batching, forward, backward, step), not
the evaluations.

  python3 bench/image_job_torch.py --data /usr/share/datasets/fashion-mnist --model mlp \
      --threads 1 --out torch_predictions.csv --log-csv torch_log.csv

Prints per epoch
  [01] TRAIN  Accuracy: 0.8812  Loss: 0.3213  Seconds: 3.21
  [01] VALID  Accuracy: 0.8612  Loss: 0.3810  Balanced accuracy: 0.8612
and writes --log-csv with the columns of the CLI's (epoch, train_accuracy, train_loss,
train_seconds, valid_accuracy, valid_balanced_accuracy, valid_loss).
"""

import argparse
import csv
import gzip
import os
import statistics
import struct
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from text_job_torch import shuffled_indices  # noqa: E402  (the DataLoader's epoch order)

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
EVAL_BATCH_SIZE = 128  # the CLI's kEvalBatchSize


def read_idx(directory, stem):
    """The uint8 array of <directory>/<stem>[.gz] (IDX format, type 0x08)."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                raw = f.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            zero, kind, rank = struct.unpack(">HBB", raw[:4])
            if zero != 0 or kind != 0x08:
                sys.exit(f"{path}: not a uint8 IDX file")
            shape = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)
    sys.exit(f"{directory}: no {stem} or {stem}.gz")


def load_split(directory, prefix):
    images = read_idx(directory, f"{prefix}-images-idx3-ubyte")
    labels = read_idx(directory, f"{prefix}-labels-idx1-ubyte")
    return images, torch.from_numpy(labels.astype(np.int64))


def make_model(kind, height, width, classes):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(height * width, 512), nn.ReLU(),
                             nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, classes))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * (height // 4) * (width // 4), 128),
                         nn.ReLU(), nn.Linear(128, classes))


def initialise(model, init):
    """init "pytorch": keep the layers' defaults; "he": every weight ~ N(0, 2 / fan_in)
    (kaiming_normal, ReLU gain), every bias 0. As the CLI's --init."""
    if init == "he":
        for param in model.parameters():
            if param.dim() >= 2:
                nn.init.kaiming_normal_(param, nonlinearity="relu")
            else:
                nn.init.zeros_(param)


def balanced_accuracy(y_true, y_pred, classes):
    """Mean over the classes present in y_true of recall = correct / count (as sklearn's)."""
    counts = torch.bincount(y_true, minlength=classes)
    correct = torch.bincount(y_true[y_pred == y_true], minlength=classes)
    present = counts > 0
    return (correct[present].double() / counts[present].double()).mean().item()


@torch.no_grad()
def predict(model, images):
    model.eval()
    return torch.cat([model(images[s:s + EVAL_BATCH_SIZE])
                      for s in range(0, len(images), EVAL_BATCH_SIZE)])


def evaluate(model, images, targets):
    """(accuracy, mean cross-entropy, balanced accuracy) over all images."""
    logits = predict(model, images)
    loss = nn.functional.cross_entropy(logits, targets).item()
    pred = logits.argmax(1)
    accuracy = (pred == targets).double().mean().item()
    return accuracy, loss, balanced_accuracy(targets, pred, len(CLASS_NAMES))


def write_atomic(path, rows, header):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".image_job.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, path)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder of the IDX files")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--out", default="predictions.csv")
    p.add_argument("--log-csv")
    p.add_argument("--lr-schedule", choices=("cosine", "constant"), default="cosine",
                   help="as the CLI's: cosine anneals the lr per step to 0 over the run")
    p.add_argument("--init", choices=("pytorch", "he"), default="pytorch",
                   help="initial weights, as the CLI's --init")
    p.add_argument("--init-from", help="start from the weights of this safetensors file "
                   "(as the CLI's --init-from)")
    p.add_argument("--save-init", help="write the initial weights to this safetensors file "
                   "(for the CLI's --init-from)")
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_u8, train_y = load_split(args.data, "train")
    test_u8, test_y = load_split(args.data, "t10k")
    if args.limit:
        train_u8, train_y = train_u8[:args.limit], train_y[:args.limit]
    scaled = train_u8.astype(np.float64) / 255.0
    mean, std = scaled.mean(), scaled.std()

    def standardise(u8):
        x = (u8.astype(np.float64) / 255.0 - mean) / std
        return torch.from_numpy(x.astype(np.float32)).unsqueeze(1)  # (N, 1, H, W)

    train_x, test_x = standardise(train_u8), standardise(test_u8)
    n, _, height, width = train_x.shape
    print(f"train {n} images, test {len(test_x)}; mean {mean:.4f} std {std:.4f}; "
          f"threads {args.threads}, torch {torch.__version__}", file=sys.stderr)

    model = make_model(args.model, height, width, len(CLASS_NAMES))
    initialise(model, args.init)
    if args.init_from:
        from safetensors.torch import load_file
        model.load_state_dict(load_file(args.init_from))
    if args.save_init:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.save_init)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    criterion = nn.CrossEntropyLoss()
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs * steps_per_epoch)
                if args.lr_schedule == "cosine" else None)

    train_seconds, rows = [], []
    for epoch in range(1, args.epochs + 1):
        perm = shuffled_indices(n, args.seed, epoch)
        start = time.perf_counter()
        model.train()
        for s in range(0, n, args.batch_size):
            index = perm[s:s + args.batch_size]
            optimizer.zero_grad()
            loss = criterion(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
            if schedule:
                schedule.step()
        train_seconds.append(time.perf_counter() - start)

        train_acc, train_loss, _ = evaluate(model, train_x, train_y)
        valid_acc, valid_loss, valid_bal = evaluate(model, test_x, test_y)
        rows.append([epoch, train_acc, train_loss, train_seconds[-1], valid_acc, valid_bal,
                     valid_loss])
        print(f"[{epoch:02d}] TRAIN  Accuracy: {train_acc:.4f}  Loss: {train_loss:.4f}  "
              f"Seconds: {train_seconds[-1]:.2f}")
        print(f"[{epoch:02d}] VALID  Accuracy: {valid_acc:.4f}  Loss: {valid_loss:.4f}  "
              f"Balanced accuracy: {valid_bal:.4f}", flush=True)
        if args.log_csv:
            write_atomic(args.log_csv, rows,
                         ["epoch", "train_accuracy", "train_loss", "train_seconds",
                          "valid_accuracy", "valid_balanced_accuracy", "valid_loss"])

    predicted = predict(model, test_x).argmax(1).tolist()
    write_atomic(args.out, [(i, CLASS_NAMES[c]) for i, c in enumerate(predicted)], ["id", "label"])
    print(f"pytorch: {args.epochs} epochs, median {statistics.median(train_seconds):.2f} s "
          f"per training epoch")


if __name__ == "__main__":
    main()
