#!/usr/bin/env python3
"""Writes regression_metric_fixtures.txt: reference values of the regression metrics and of the
Loss metric over several batches, read by tests/metrics/regression_test.cpp. Not a test
itself: it needs scikit-learn and PyTorch only when the fixtures are regenerated.

Same file format as make_fixtures.py. A case holds the batches as inputs y_pred_<b>, y_<b>
(b = 0, 1, ...) and the value over all of them as outputs, in float64:
  - regression cases: mse, mae, rmse from sklearn's mean_squared_error,
    mean_absolute_error and the square root of the former, on the batches concatenated
    (multi-output arrays averaged uniformly, i.e. over every element);
  - the cross-entropy case: loss, torch's cross_entropy over the concatenated batches, which
    is the batch-size-weighted mean of the per-batch mean losses.
Inputs are drawn from a NumPy generator seeded by the case name; float32 inputs are widened
to float64 exactly before the references are computed.
"""

import math
import pathlib
import zlib

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from sklearn.metrics import mean_absolute_error, mean_squared_error

from make_fixtures import record

OUT = pathlib.Path(__file__).with_name("regression_metric_fixtures.txt")


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def regression_case(name, shapes, dtype):
    rng = rng_for(name)
    preds = [torch.from_numpy(rng.standard_normal(s)).to(dtype) for s in shapes]
    targets = [torch.from_numpy(rng.standard_normal(s) * 2.0).to(dtype) for s in shapes]
    p = torch.cat(preds).to(torch.float64).numpy()
    t = torch.cat(targets).to(torch.float64).numpy()
    mse = mean_squared_error(t, p)
    outputs = {"mse": mse, "mae": mean_absolute_error(t, p), "rmse": math.sqrt(mse)}
    return write_case(name, str(dtype).replace("torch.", ""), preds, targets, outputs)


def cross_entropy_case(name, batch_sizes, classes):
    rng = rng_for(name)
    logits = [torch.from_numpy(rng.standard_normal((n, classes))) for n in batch_sizes]
    labels = [torch.from_numpy(rng.integers(0, classes, n)) for n in batch_sizes]
    loss = F.cross_entropy(torch.cat(logits), torch.cat(labels)).item()
    return write_case(name, "float64", logits, labels, {"loss": loss})


def write_case(name, dtype_label, preds, targets, outputs):
    text = f"case {name} {dtype_label}\n"
    for b, (p, t) in enumerate(zip(preds, targets)):
        text += record("input", f"y_pred_{b}", p) + record("input", f"y_{b}", t)
    for key, value in outputs.items():
        text += record("output", key, torch.tensor(value, dtype=torch.float64))
    return text + "end\n"


def main():
    parts = [
        "# ignis metric reference fixtures: made by make_regression_metric_fixtures.py from "
        f"scikit-learn {sklearn.__version__} and PyTorch {torch.__version__.split('+')[0]}; "
        "do not edit by hand.\n",
        regression_case("regression_1d", [(4,), (7,), (5,)], torch.float64),
        regression_case("regression_2d", [(3, 2), (5, 2), (1, 2)], torch.float64),
        regression_case("regression_1d_f32", [(6,), (2,), (9,)], torch.float32),
        cross_entropy_case("cross_entropy", [4, 6, 3], 5),
    ]
    OUT.write_text("".join(parts))
    print(f"{len(parts) - 1} cases -> {OUT.name}, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
