#!/usr/bin/env python3
"""Model checkpoint interop fixtures, both ways, for tests/nn/checkpoint_test.cpp.

(a) Builds two small PyTorch models with seeded weights (and BatchNorm running statistics),
    saves their state_dict with safetensors.torch.save_file to torch_model_bag.safetensors
    and torch_model_cnn.safetensors, and writes checkpoint_fixtures.txt (the format of
    tests/support/fixture.h): per model one case holding a fixed input and the eval-mode
    forward output, computed in float64 from the float32 weights and rounded once.
(b) Checks ignis_model_bag.safetensors, which the C++ test writes from the bag model filled
    with bag_values() (set IGNIS_REGENERATE_CHECKPOINTS=1 when running nn_tests to rewrite
    it): it must load into the PyTorch model with load_state_dict(strict=True), giving exactly
    bag_values(), and save_file of that state_dict must give exactly its bytes.

    pip install torch safetensors
    python3 tests/reference/make_checkpoint_fixtures.py
"""

import copy
import pathlib
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save, save_file
from torch import nn

HERE = pathlib.Path(__file__).parent
TORCH_BAG = HERE / "torch_model_bag.safetensors"
TORCH_CNN = HERE / "torch_model_cnn.safetensors"
IGNIS_BAG = HERE / "ignis_model_bag.safetensors"
FIXTURES = HERE / "checkpoint_fixtures.txt"

METADATA = {"format": "pt"}


def bag_model():
    return nn.Sequential(nn.EmbeddingBag(20, 8, mode="mean"), nn.Linear(8, 5))


def cnn_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def seeded(make, seed):
    torch.manual_seed(seed)
    model = make()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
    return model.eval()


def bag_values():
    """The exact values the C++ test gives the ignis bag model: entry k (in state_dict order),
    element i = ((7 * i + 3 * k) % 23 - 11) / 32, exact in float32."""
    out = {}
    for k, (name, t) in enumerate(bag_model().state_dict().items()):
        i = np.arange(t.numel())
        values = (((7 * i + 3 * k) % 23) - 11) / 32.0
        out[name] = torch.tensor(values, dtype=t.dtype).reshape(t.shape)
    return out


def fmt(value, dtype):
    if dtype == torch.float32:
        return str(np.float32(value))
    if dtype == torch.float64:
        return repr(float(value))
    return str(int(value))


def record(role, name, t):
    dtype = str(t.dtype).removeprefix("torch.")
    shape = "[" + ",".join(str(s) for s in t.shape) + "]"
    return [f"{role} {name} {dtype} {shape}",
            " ".join(fmt(v, t.dtype) for v in t.flatten().tolist())]


def case(name, model, x):
    twin = copy.deepcopy(model).double()
    with torch.no_grad():
        xin = x if x.dtype == torch.int64 else x.double()
        y = twin(xin).float()
    return [f"case {name} float32", *record("input", "x", x), *record("output", "y", y), "end"]


def write_torch_side():
    torch.manual_seed(100)
    bag_x = torch.randint(0, 20, (3, 4))
    cnn_x = torch.randn(2, 1, 8, 8)
    bag = seeded(bag_model, 1)
    cnn = seeded(cnn_model, 2)
    save_file(bag.state_dict(), TORCH_BAG, metadata=METADATA)
    save_file(cnn.state_dict(), TORCH_CNN, metadata=METADATA)
    lines = [f"# ignis checkpoint fixtures: made by make_checkpoint_fixtures.py from PyTorch "
             f"{torch.__version__}; do not edit by hand."]
    lines += case("bag", bag, bag_x)
    lines += case("cnn", cnn, cnn_x)
    FIXTURES.write_text("\n".join(lines) + "\n")


def same_bits(a, b):
    return (a.dtype == b.dtype and a.shape == b.shape
            and a.reshape(-1).view(torch.uint8).tolist()
            == b.reshape(-1).view(torch.uint8).tolist())


def check_ignis_side():
    if not IGNIS_BAG.exists():
        print(f"{IGNIS_BAG.name} is missing: run nn_tests with IGNIS_REGENERATE_CHECKPOINTS=1, "
              "then this script again")
        return False
    ok = True
    model = bag_model()
    with safe_open(IGNIS_BAG, framework="pt") as f:
        loaded = {name: f.get_tensor(name) for name in f.keys()}
        if f.metadata() != METADATA:
            print(f"metadata differs: {f.metadata()} != {METADATA}")
            ok = False
    model.load_state_dict(loaded, strict=True)
    state = model.state_dict()
    for name, want in bag_values().items():
        if not same_bits(state[name], want):
            print(f"tensor {name} differs: {state[name]} != {want}")
            ok = False
    if save(dict(state), metadata=METADATA) != IGNIS_BAG.read_bytes():
        print(f"save_file's bytes differ from {IGNIS_BAG.name}")
        ok = False
    return ok


def main():
    write_torch_side()
    ok = check_ignis_side()
    print(f"{IGNIS_BAG.name}: {'matches PyTorch' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
