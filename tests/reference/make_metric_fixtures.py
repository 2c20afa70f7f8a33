#!/usr/bin/env python3
"""Writes metrics_fixtures.json: scikit-learn's values of the classification metrics on fixed
batches, read by tests/metrics/classification_test.cpp. Not a test itself: it needs scikit-learn
and NumPy only when the fixtures are regenerated, never when the tests run.

    pip install scikit-learn numpy
    python3 tests/reference/make_metric_fixtures.py

Each case is a list of batches ({"y_pred": scores, "y": targets}) and sklearn's results over
all of them together. Labels are derived from the scores as ignis does: multiclass by argmax
(first index on ties), binary and multilabel by score > 0.5. Every per-class score is taken
over all C classes (labels=range(C)), as Ignite does, with zero_division=0. JSON floats are
Python's repr: the shortest decimal that reads back to the same float64.

File layout:
    {"sklearn": version, "cases": [{"name", "type" (binary | multiclass | multilabel),
      "num_classes", "batches": [{"y_pred", "y"}], "results": {...}}]}
results: "accuracy"; "top_k" {k: value} (multiclass); "precision" / "recall" {average: value,
"none": per class (a number for binary: class 1)}; "fbeta" {beta: {average: value}};
"balanced_accuracy" and "balanced_accuracy_adjusted" (binary, multiclass);
"confusion_matrix" {"none" | "true" | "pred" | "all": C x C} (multiclass).
"""

import json
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn import metrics

OUT = pathlib.Path(__file__).with_name("metrics_fixtures.json")
THRESHOLD = 0.5
BETAS = [0.5, 1.0, 2.0]


def multiclass_batches(rng, num_classes, sizes, class_p, never_predicted, extra_dims=()):
    """Imbalanced targets drawn from class_p; scores favour the true class about 60% of the
    time; class `never_predicted` gets scores too low to ever win."""
    batches = []
    for size in sizes:
        shape = (size,) + tuple(extra_dims)
        y = rng.choice(num_classes, size=shape, p=class_p)
        scores = rng.normal(size=shape + (num_classes,))
        hit = rng.random(shape) < 0.6
        np.put_along_axis(scores, y[..., None],
                          np.take_along_axis(scores, y[..., None], -1) + 2.5 * hit[..., None], -1)
        scores[..., never_predicted] -= 20.0
        scores = np.moveaxis(scores, -1, 1)  # (B, C, ...)
        batches.append((scores, y))
    return batches


def flatten_multiclass(batches):
    scores = np.concatenate([np.moveaxis(s, 1, -1).reshape(-1, s.shape[1]) for s, _ in batches])
    y = np.concatenate([t.reshape(-1) for _, t in batches])
    return scores, y


def prf(y, pred, labels, averages):
    out = {"precision": {}, "recall": {}, "fbeta": {str(b): {} for b in BETAS}}
    for avg in averages:
        key = "none" if avg in (None, "binary") else avg
        kw = dict(average=avg, zero_division=0)
        if avg != "binary":
            kw["labels"] = labels
        out["precision"][key] = metrics.precision_score(y, pred, **kw)
        out["recall"][key] = metrics.recall_score(y, pred, **kw)
        for b in BETAS:
            out["fbeta"][str(b)][key] = metrics.fbeta_score(y, pred, beta=b, **kw)
    return out


def to_json(value):
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value


def multiclass_case(name, rng, num_classes, sizes, class_p, never_predicted, extra_dims=()):
    batches = multiclass_batches(rng, num_classes, sizes, class_p, never_predicted, extra_dims)
    scores, y = flatten_multiclass(batches)
    pred = scores.argmax(axis=1)
    labels = list(range(num_classes))
    results = {"accuracy": metrics.accuracy_score(y, pred)}
    results["top_k"] = {str(k): metrics.top_k_accuracy_score(y, scores, k=k, labels=labels)
                        for k in (1, 2, 3, num_classes)}
    results.update(prf(y, pred, labels, [None, "micro", "macro", "weighted"]))
    results["balanced_accuracy"] = metrics.balanced_accuracy_score(y, pred)
    results["balanced_accuracy_adjusted"] = metrics.balanced_accuracy_score(y, pred, adjusted=True)
    results["confusion_matrix"] = {
        str(norm).lower(): metrics.confusion_matrix(y, pred, labels=labels, normalize=norm)
        for norm in (None, "true", "pred", "all")}
    return {"name": name, "type": "multiclass", "num_classes": num_classes,
            "batches": [{"y_pred": s, "y": t} for s, t in batches], "results": results}


def binary_case(rng, sizes):
    batches = []
    for size in sizes:
        y = (rng.random(size) < 0.35).astype(np.int64)
        p = np.clip(0.35 * y + 0.65 * rng.random(size), 0.0, 1.0)
        batches.append((p, y))
    # A score exactly at the threshold is class 0 (score > threshold is class 1).
    batches[0][0][0] = THRESHOLD
    p = np.concatenate([s for s, _ in batches])
    y = np.concatenate([t for _, t in batches])
    pred = (p > THRESHOLD).astype(np.int64)
    results = {"accuracy": metrics.accuracy_score(y, pred)}
    results.update(prf(y, pred, [0, 1], ["binary", "micro", "macro", "weighted"]))
    results["balanced_accuracy"] = metrics.balanced_accuracy_score(y, pred)
    results["balanced_accuracy_adjusted"] = metrics.balanced_accuracy_score(y, pred, adjusted=True)
    return {"name": "binary", "type": "binary", "num_classes": 2,
            "batches": [{"y_pred": s, "y": t} for s, t in batches], "results": results}


def multilabel_case(rng, num_labels, sizes):
    """Label 3 is never true; the first sample has no true and no predicted label (every
    per-sample ratio 0/0, counted as 0)."""
    label_p = np.array([0.5, 0.3, 0.6, 0.0, 0.2])[:num_labels]
    batches = []
    for size in sizes:
        y = (rng.random((size, num_labels)) < label_p).astype(np.int64)
        p = np.clip(0.45 * y + 0.6 * rng.random((size, num_labels)), 0.0, 1.0)
        batches.append((p, y))
    batches[0][1][0] = 0
    batches[0][0][0] = 0.1
    p = np.concatenate([s for s, _ in batches])
    y = np.concatenate([t for _, t in batches])
    pred = (p > THRESHOLD).astype(np.int64)
    results = {"accuracy": metrics.accuracy_score(y, pred)}
    results.update(prf(y, pred, list(range(num_labels)),
                       [None, "micro", "macro", "weighted", "samples"]))
    return {"name": "multilabel", "type": "multilabel", "num_classes": num_labels,
            "batches": [{"y_pred": s, "y": t} for s, t in batches], "results": results}


def main():
    # sklearn warns about k >= n_classes and about classes predicted but never true: both
    # are cases these fixtures mean to cover.
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20261128)
    cases = [
        # Class 4 is never predicted, class 5 is predicted but never a target; batch 3 holds
        # one sample, so most classes are missing from it.
        multiclass_case("multiclass", rng, 6, [20, 17, 1, 25, 9],
                        [0.4, 0.25, 0.15, 0.1, 0.1, 0.0], never_predicted=4),
        # (B, C, L) scores with (B, L) targets: each position is a sample.
        multiclass_case("multiclass_3d", rng, 4, [6, 5, 7], [0.5, 0.3, 0.2, 0.0],
                        never_predicted=2, extra_dims=(3,)),
        binary_case(rng, [15, 1, 22, 12]),
        multilabel_case(rng, 5, [12, 9, 14]),
    ]
    # Class 5 of "multiclass" must win some argmax although it is never a target.
    scores, y = flatten_multiclass([(b["y_pred"], b["y"]) for b in cases[0]["batches"]])
    pred = scores.argmax(1)
    assert (pred == 5).any() and not (y == 5).any() and not (pred == 4).any()
    doc = {"sklearn": sklearn.__version__, "cases": to_json(cases)}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
