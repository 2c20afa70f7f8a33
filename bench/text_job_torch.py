#!/usr/bin/env python3
"""The `ignis train` text job in PyTorch (CPU), the reference for bench/text_job_side_by_side.py.

Same tokenizer rule, vocabulary rule, label order, models, initial distributions, optimizer,
loss, batch size, epochs and batch order (ignis's DataLoader shuffle, reimplemented below) as
the C++ CLI; only the random draws differ (initial weights, dropout masks: each library has
its own generator). Not a general training script. Train metrics are those of an evaluation
pass over the training set after each epoch (as the CLI does); the per-epoch train seconds
cover the training loop only (batching, forward, backward, step), not the evaluations.

  python3 bench/text_job_torch.py --train datasets/wordnet/train.csv \
      --valid datasets/wordnet/valid.csv --test datasets/wordnet/test.csv --out torch_submit.csv

Prints per epoch
  [01] TRAIN  Accuracy: 0.9812  Loss: 0.0713  Seconds: 3.21
  [01] VALID  Accuracy: 0.8012  Loss: 0.7110  Balanced accuracy: 0.7513
and at the end one JSON line (seconds_per_epoch = median train seconds over the epochs).
"""

import argparse
import csv
import json
import os
import re
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

# ---------------------------------------------------------------------------------------------
# The tokenizer rule (data/tokenizer.h), written out explicitly so both sides agree exactly.

# Code points >= U+0080 that are separators; every other code point >= U+0080 is a token
# character. Below U+0080 only ASCII letters and digits are token characters.
SEPARATOR_RANGES = [
    (0x0080, 0x00A9), (0x00AB, 0x00B4), (0x00B6, 0x00B9), (0x00BB, 0x00BF),  # U+0080-00BF
    (0x00D7, 0x00D7), (0x00F7, 0x00F7),                  # but U+00AA, U+00B5, U+00BA
    (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2190, 0x2BFF), (0x3000, 0x303F),
    (0xFE00, 0xFE0F), (0xFE30, 0xFE4F), (0xFF00, 0xFF0F), (0xFF1A, 0xFF20),
    (0xFF3B, 0xFF40), (0xFF5B, 0xFF65), (0x1F000, 0x1FAFF),
]


def token_char_ranges():
    """The token characters as sorted inclusive ranges: ASCII 0-9 A-Z a-z, then the
    complement of SEPARATOR_RANGES in U+0080..U+10FFFF."""
    ranges = [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)]
    start = 0x80
    for lo, hi in SEPARATOR_RANGES:
        if start < lo:
            ranges.append((start, lo - 1))
        start = hi + 1
    ranges.append((start, 0x10FFFF))
    return ranges


def lowercase_table():
    """The rule's step 3 as a str.translate table (only the code points it changes)."""
    table = {}
    for cp in range(0x41, 0x5B):
        table[cp] = cp + 0x20
    for cp in range(0xC0, 0xDF):
        if cp != 0xD7:
            table[cp] = cp + 0x20
    table[0x178] = 0xFF
    for lo, hi, parity in ((0x100, 0x137, 0), (0x14A, 0x177, 0), (0x139, 0x148, 1),
                           (0x179, 0x17E, 1)):
        for cp in range(lo, hi + 1):
            if cp % 2 == parity:
                table[cp] = cp + 1
    for cp in range(0x391, 0x3AA):
        if cp != 0x3A2:
            table[cp] = cp + 0x20
    for cp in range(0x410, 0x430):
        table[cp] = cp + 0x20
    for cp in range(0x400, 0x410):
        table[cp] = cp + 0x50
    return table


TOKEN_RE = re.compile(
    "[" + "".join(f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi in token_char_ranges()) + "]+")
LOWERCASE = lowercase_table()


def tokenize(text, lowercase=True, bigrams=False):
    """Maximal runs of token characters (lowercased by the rule), then the n-1 bigrams "a b".
    Lowercasing maps token characters to token characters, so it may come first."""
    if lowercase:
        text = text.translate(LOWERCASE)
    tokens = TOKEN_RE.findall(text)
    if bigrams:
        tokens += [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
    return tokens


# ---------------------------------------------------------------------------------------------
# Data: CSV reading, the vocabulary rule (data/vocab.h), label encoding, batching.

PAD, UNK = "<pad>", "<unk>"
EVAL_BATCH_SIZE = 1024  # evaluation and prediction batches, as the CLI's


def read_csv(path, args, require_label):
    """Returns (ids, token lists, labels or None). Strict UTF-8; a leading BOM is skipped."""
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            sys.exit(f"{path}: empty file, expected a header row")
        if args.text_column not in header:
            sys.exit(f"{path}:1: no column '{args.text_column}' (columns: {', '.join(header)})")
        text_col = header.index(args.text_column)
        label_col = header.index(args.label_column) if args.label_column in header else None
        id_col = header.index(args.id_column) if args.id_column in header else None
        if require_label and label_col is None:
            sys.exit(f"{path}:1: no column '{args.label_column}' (columns: {', '.join(header)})")
        ids, docs, labels = [], [], []
        for row in reader:
            if not row:  # blank lines are skipped, as the C++ reader does
                continue
            if len(row) != len(header):
                sys.exit(f"{path}:{reader.line_num}: {len(row)} fields, expected {len(header)}"
                         " (as the header)")
            ids.append(row[id_col] if id_col is not None else str(len(ids)))
            docs.append(tokenize(row[text_col], bigrams=args.bigrams))
            if label_col is not None:
                labels.append(row[label_col])
    if not docs:
        sys.exit(f"{path}: no data rows")
    return ids, docs, (labels if label_col is not None else None)


def build_vocab(docs, min_freq):
    """<pad>, <unk>, then tokens with count >= min_freq by count descending, then by UTF-8
    bytes ascending."""
    counts = {}
    for doc in docs:
        for token in doc:
            counts[token] = counts.get(token, 0) + 1
    kept = [t for t, c in counts.items() if c >= min_freq]
    kept.sort(key=lambda t: (-counts[t], t.encode("utf-8")))
    return {token: i for i, token in enumerate([PAD, UNK] + kept)}


def encode(docs, vocab):
    """Per row: a 1-d int64 tensor of token indices (unknown tokens -> 1)."""
    unk = vocab[UNK]
    return [torch.tensor([vocab.get(t, unk) for t in doc], dtype=torch.int64) for doc in docs]


def collate(rows, order):
    """Bag collation: (flat indices (N,), offsets (B,)) of the rows in order."""
    parts = [rows[i] for i in order]
    lengths = torch.tensor([0] + [len(p) for p in parts[:-1]], dtype=torch.int64)
    return torch.cat(parts), torch.cumsum(lengths, 0)


# The DataLoader's epoch order (data/dataset.h shuffled_indices), so that both programs see the
# same batches: Fisher-Yates from the back, step i swapping i with j = r mod (i + 1),
# r = w0 << 32 | w1 of philox4x32_10(counter = {lo(i), hi(i), lo(epoch), hi(epoch)},
# key = {lo(seed), hi(seed)}) (tensor/generator.h).

def philox4x32_10(counter, key):
    """Philox4x32-10 on numpy uint64 arrays holding 32-bit words; returns the 4 output words."""
    mask = np.uint64(0xFFFFFFFF)
    m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    w0, w1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_ in range(10):
        if round_ > 0:
            k0, k1 = (k0 + w0) & mask, (k1 + w1) & mask
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & mask, (p0 >> 32) ^ c3 ^ k1, p0 & mask
    return c0, c1, c2, c3


def shuffled_indices(n, seed, stream):
    steps = np.arange(n - 1, 0, -1, dtype=np.uint64)  # i = n-1 .. 1
    mask = np.uint64(0xFFFFFFFF)

    def word(x):  # a 32-bit word, once per step
        return np.full_like(steps, x & 0xFFFFFFFF)

    c = (steps & mask, steps >> np.uint64(32), word(stream), word(stream >> 32))
    r0, r1 = philox4x32_10(c, (word(seed), word(seed >> 32)))[:2]
    swaps = ((r0 << np.uint64(32)) | r1) % (steps + np.uint64(1))
    order = list(range(n))
    for i, j in zip(range(n - 1, 0, -1), swaps.tolist()):
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order, dtype=torch.int64)


def batches(n, batch_size, perm=None):
    order = perm if perm is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size].tolist()


# ---------------------------------------------------------------------------------------------
# Model, training, evaluation.

class TextModel(nn.Module):
    """bag: EmbeddingBag(V, D, mean) -> Linear(D, C); mlp: EmbeddingBag -> Linear(D, H) -> ReLU
    -> Dropout -> Linear(H, C). PyTorch's default initialisation (as ignis's); state_dict names
    as the CLI's (embedding.weight, head.0.weight, ...)."""

    def __init__(self, kind, vocab_size, embed_dim, hidden, classes, dropout):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean")
        if kind == "bag":
            self.head = nn.Sequential(nn.Linear(embed_dim, classes))
        else:
            self.head = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(hidden, classes))

    def forward(self, inputs, offsets):
        return self.head(self.embedding(inputs, offsets))


def balanced_accuracy(y_true, y_pred, classes):
    """Mean over the classes present in y_true of recall = correct / count (as sklearn's)."""
    counts = torch.bincount(y_true, minlength=classes)
    correct = torch.bincount(y_true[y_pred == y_true], minlength=classes)
    present = counts > 0
    return (correct[present].double() / counts[present].double()).mean().item()


@torch.no_grad()
def predict(model, rows):
    model.eval()
    logits = [model(*collate(rows, order)) for order in batches(len(rows), EVAL_BATCH_SIZE)]
    return torch.cat(logits)


def evaluate(model, rows, targets, classes):
    """(accuracy, mean cross-entropy, balanced accuracy) over all rows."""
    logits = predict(model, rows)
    loss = nn.functional.cross_entropy(logits, targets).item()
    pred = logits.argmax(1)
    accuracy = (pred == targets).double().mean().item()
    return accuracy, loss, balanced_accuracy(targets, pred, classes)


def write_predictions(path, ids, labels, label_column):
    """Header id,<label_column>, one row per test row; temp file + rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".predictions.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", label_column])
        writer.writerows(zip(ids, labels))
    os.replace(tmp, path)


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(here, "..", "datasets", "wordnet")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=os.path.join(data, "train.csv"))
    p.add_argument("--valid", default=os.path.join(data, "valid.csv"))
    p.add_argument("--test", default=os.path.join(data, "test.csv"))
    p.add_argument("--out", default="submit_torch.csv")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--id-column", default="id")
    p.add_argument("--model", choices=("bag", "mlp"), default="bag")
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.5, help="mlp only")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--min-freq", type=int, default=1)
    p.add_argument("--bigrams", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_ids, train_docs, train_labels = read_csv(args.train, args, require_label=True)
    _, valid_docs, valid_labels = read_csv(args.valid, args, require_label=True)
    test_ids, test_docs, _ = read_csv(args.test, args, require_label=False)

    vocab = build_vocab(train_docs, args.min_freq)
    classes = sorted(set(train_labels), key=lambda s: s.encode("utf-8"))
    label_index = {c: i for i, c in enumerate(classes)}
    for label in valid_labels:
        if label not in label_index:
            sys.exit(f"{args.valid}: unknown label '{label}' (not in the training data)")
    train_rows, valid_rows, test_rows = (encode(d, vocab) for d in (train_docs, valid_docs,
                                                                     test_docs))
    train_y = torch.tensor([label_index[c] for c in train_labels], dtype=torch.int64)
    valid_y = torch.tensor([label_index[c] for c in valid_labels], dtype=torch.int64)
    print(f"train {len(train_rows)} rows, valid {len(valid_rows)}, test {len(test_rows)}; "
          f"vocabulary {len(vocab)}, classes {len(classes)}, threads {args.threads}",
          file=sys.stderr)

    model = TextModel(args.model, len(vocab), args.embed_dim, args.hidden, len(classes),
                      args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    criterion = nn.CrossEntropyLoss()

    train_seconds, history = [], []
    for epoch in range(1, args.epochs + 1):
        perm = shuffled_indices(len(train_rows), args.seed, epoch)
        start = time.perf_counter()
        model.train()
        for order in batches(len(train_rows), args.batch_size, perm):
            inputs, offsets = collate(train_rows, order)
            optimizer.zero_grad()
            loss = criterion(model(inputs, offsets), train_y[order])
            loss.backward()
            optimizer.step()
        train_seconds.append(time.perf_counter() - start)

        train_acc, train_loss, _ = evaluate(model, train_rows, train_y, len(classes))
        valid_acc, valid_loss, valid_bal = evaluate(model, valid_rows, valid_y, len(classes))
        history.append({"epoch": epoch, "train_seconds": train_seconds[-1],
                        "train_accuracy": train_acc, "train_loss": train_loss,
                        "valid_accuracy": valid_acc, "valid_loss": valid_loss,
                        "valid_balanced_accuracy": valid_bal})
        print(f"[{epoch:02d}] TRAIN  Accuracy: {train_acc:.4f}  Loss: {train_loss:.4f}  "
              f"Seconds: {train_seconds[-1]:.2f}")
        print(f"[{epoch:02d}] VALID  Accuracy: {valid_acc:.4f}  Loss: {valid_loss:.4f}  "
              f"Balanced accuracy: {valid_bal:.4f}", flush=True)

    test_pred = predict(model, test_rows).argmax(1).tolist()
    write_predictions(args.out, test_ids, [classes[i] for i in test_pred], args.label_column)
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "model": args.model, "epochs": args.epochs, "batch_size": args.batch_size,
        "vocab_size": len(vocab), "classes": len(classes),
        "seconds_per_epoch": statistics.median(train_seconds),
        "train_seconds": train_seconds, "final": history[-1], "predictions": args.out,
    }))


if __name__ == "__main__":
    main()
