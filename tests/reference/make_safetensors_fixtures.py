#!/usr/bin/env python3
"""Safetensors interop fixtures, both ways, for tests/tensor/safetensors_test.cpp.

(a) Writes torch_written.safetensors with safetensors.torch.save_file (TENSORS below, with
    TORCH_METADATA), and safetensors_fixtures.txt: the same tensors as text, in the format of
    tests/support/fixture.h (one case, "safetensors", each tensor an `output` record), so the
    C++ test can check what it loads without Python.
(b) Checks ignis_written.safetensors, the file the C++ test writes from the same tensors with
    IGNIS_METADATA (set IGNIS_REGENERATE_SAFETENSORS=1 when running tensor_tests to rewrite
    it): safetensors.torch.load_file must give exactly TENSORS, and save_file of TENSORS must
    give exactly its bytes.

NOTE: save_file writes metadata in hash-map order, which changes from run to run, so the
byte-exact check uses a single metadata key.

    pip install torch safetensors
    python3 tests/reference/make_safetensors_fixtures.py
"""

import math
import pathlib
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

HERE = pathlib.Path(__file__).parent
TORCH_WRITTEN = HERE / "torch_written.safetensors"
IGNIS_WRITTEN = HERE / "ignis_written.safetensors"
FIXTURES = HERE / "safetensors_fixtures.txt"

TORCH_METADATA = {"format": "pt", "producer": "make_safetensors_fixtures.py"}
IGNIS_METADATA = {"format": "pt"}

TENSORS = {
    "0.weight": torch.tensor([[0.5, -1.25, 3.0e-8], [-0.0, math.inf, math.nan]],
                             dtype=torch.float32),
    "0.bias": torch.tensor([0.1, -0.2, 1e-30], dtype=torch.float32),
    "embed.weight": torch.tensor([[math.pi, -math.e], [1e300, -1e-300]], dtype=torch.float64),
    "step": torch.tensor(1234567890123, dtype=torch.int64),
    "extremes": torch.tensor([-(2**63), 2**63 - 1], dtype=torch.int64),
    "counts": torch.tensor([0, -1, 2**31 - 1, -(2**31)], dtype=torch.int32),
    "mask": torch.tensor([[True, False, True], [False, False, True]]),
    "pixels": torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8),
    "empty": torch.zeros(0, 4, dtype=torch.float32),
}


def fmt(value, dtype):
    if dtype == torch.float32:
        return str(np.float32(value))
    if dtype == torch.float64:
        return repr(float(value))
    return str(int(value))


def write_fixtures():
    lines = [
        f"# ignis safetensors fixtures: made by make_safetensors_fixtures.py from PyTorch "
        f"{torch.__version__}; do not edit by hand.",
        "case safetensors float32",
    ]
    for name, t in TENSORS.items():
        dtype = str(t.dtype).removeprefix("torch.")
        shape = "[" + ",".join(str(s) for s in t.shape) + "]"
        lines.append(f"output {name} {dtype} {shape}")
        lines.append(" ".join(fmt(v, t.dtype) for v in t.flatten().tolist()))
    lines.append("end")
    FIXTURES.write_text("\n".join(lines) + "\n")


def same_bits(a, b):
    return (a.dtype == b.dtype and a.shape == b.shape
            and a.reshape(-1).view(torch.uint8).tolist()
            == b.reshape(-1).view(torch.uint8).tolist())


def check_ignis_written():
    if not IGNIS_WRITTEN.exists():
        print(f"{IGNIS_WRITTEN.name} is missing: run tensor_tests with "
              "IGNIS_REGENERATE_SAFETENSORS=1, then this script again")
        return False
    ok = True
    loaded = load_file(IGNIS_WRITTEN)
    if list(sorted(loaded)) != list(sorted(TENSORS)):
        print(f"names differ: {sorted(loaded)} != {sorted(TENSORS)}")
        ok = False
    for name, want in TENSORS.items():
        if name in loaded and not same_bits(loaded[name], want):
            print(f"tensor {name} differs: {loaded[name]} != {want}")
            ok = False
    with safe_open(IGNIS_WRITTEN, framework="pt") as f:
        if f.metadata() != IGNIS_METADATA:
            print(f"metadata differs: {f.metadata()} != {IGNIS_METADATA}")
            ok = False
    if save(TENSORS, metadata=IGNIS_METADATA) != IGNIS_WRITTEN.read_bytes():
        print(f"save_file's bytes differ from {IGNIS_WRITTEN.name}")
        ok = False
    return ok


def main():
    save_file(TENSORS, TORCH_WRITTEN, metadata=TORCH_METADATA)
    write_fixtures()
    ok = check_ignis_written()
    print(f"{IGNIS_WRITTEN.name}: {'matches PyTorch' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
