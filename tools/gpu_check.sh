#!/usr/bin/env bash
# The prepared GPU check: on a machine with an NVIDIA GPU, runs every CUDA test (the parity
# tests and the end-to-end training runs), the other test suites, the GPU benchmarks,
# `ignis train --device cuda` beside the same job on the CPU, and a PyTorch CUDA baseline of
# the benchmarks' work, and writes a short report to $OUT/gpu-report.md, with ignis beside
# PyTorch line by line.
# Not part of CI (CI has no GPU) and not an installer. Finishes in under 6 minutes: every
# step has its own time limit and is skipped when too little of the budget is left.
#
#   tools/gpu_check.sh --prepare [BUILD_DIR]
#       On the development machine (nvcc there, no GPU needed). Builds the CUDA configuration
#       in BUILD_DIR (default build-gpu; portable code: IGNIS_NATIVE=OFF, since the GPU
#       machine's processor may lack this one's instructions) and packs its programs, stripped
#       and compressed, into build-gpu-carry/ (ignored by git; carry it to the GPU machine).
#   tools/gpu_check.sh
#       On the GPU machine, from the repository root. Unpacks build-gpu-carry/ when present,
#       else builds there with what that machine has (tests only if GoogleTest is installed),
#       runs the steps and writes $OUT/gpu-report.md and one log per step (OUT defaults to
#       ./gpu-check-out). Exit status 0 when every step that ran passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CARRY="build-gpu-carry"

# ---------------------------------------------------------------------------------------
# --prepare: build here, pack for the GPU machine
# ---------------------------------------------------------------------------------------
if [[ "${1:-}" == "--prepare" ]]; then
  build=${2:-build-gpu}
  bench=OFF
  if [[ -n "$(find /usr /usr/local -name 'benchmarkConfig.cmake' -print -quit 2>/dev/null)" ]]; then
    bench=ON
  fi
  cmake -S . -B "$build" -DIGNIS_CUDA=ON -DIGNIS_NATIVE=OFF -DIGNIS_WERROR=ON \
    -DCMAKE_BUILD_TYPE=Release -DIGNIS_BUILD_TESTS=ON -DIGNIS_BUILD_BENCH="$bench" || exit 1
  if grep -q '^IGNIS_NATIVE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "gpu_check: $build has IGNIS_NATIVE=ON: its programs may not run on the GPU machine" >&2
    exit 1
  fi
  cmake --build "$build" -j "${IGNIS_JOBS:-2}" || exit 1
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/$build/lib"
  # Programs keep their place in the build tree: tests and the CLI hold absolute paths to it.
  while IFS= read -r program; do
    rel=${program#"$build"/}
    mkdir -p "$stage/$build/$(dirname "$rel")"
    strip -o "$stage/$build/$rel" "$program"
    # Shared libraries from outside the CUDA toolkit (Google Benchmark) travel beside them.
    ldd "$program" | awk '/=> \// {print $3}' | grep -E 'benchmark|gtest|gmock' |
      xargs -r -I{} cp -L {} "$stage/$build/lib/"
  done < <({ find "$build/tests" -maxdepth 1 -type f -perm -u+x -name '*_tests'
             find "$build/apps" -maxdepth 1 -type f -perm -u+x -name ignis
             find "$build/bench" -maxdepth 2 -type f -perm -u+x ! -name '*.sh' ! -name '*.py'
           } 2>/dev/null)
  {
    echo "source_dir=$ROOT"
    echo "build_dir=$ROOT/$build"
    echo "build_name=$build"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "changed_files=$(git status --porcelain 2>/dev/null | wc -l)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nvcc=$(nvcc --version 2>/dev/null | tail -1)"
    echo "cuda_architectures=$(grep '^CMAKE_CUDA_ARCHITECTURES:' "$build/CMakeCache.txt" | cut -d= -f2)"
  } > "$stage/$build/BUILD_INFO"
  rm -rf "$CARRY"
  mkdir -p "$CARRY"
  tar -C "$stage" -cJf "$CARRY/programs.tar.xz" "$build"
  du -sh "$CARRY"
  echo "gpu_check: packed $(find "$stage/$build" -type f | wc -l) files into $CARRY/; carry it"
  exit 0
fi

# ---------------------------------------------------------------------------------------
# The check, on the GPU machine
# ---------------------------------------------------------------------------------------
OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
REPORT=$OUT/gpu-report.md
BUDGET=330        # seconds for every step together, under the 6 minutes
STARTED=$SECONDS
SCRATCH=$(mktemp -d)   # the predictions files, which nobody reads
trap 'rm -rf "$SCRATCH"' EXIT
FAILED=0
RESULTS=()        # one markdown table row per step
NOTES=()

left() { echo $((BUDGET - (SECONDS - STARTED))); }
note() { NOTES+=("$*"); echo "gpu_check: $*"; }

# step NAME LIMIT LOG COMMAND...: runs COMMAND with a time limit, output to $OUT/LOG; records
# the status and seconds. Skipped when less than LIMIT/2 seconds of the budget are left.
STEP_RC=0
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local remaining
  remaining=$(left)
  if ((remaining < limit / 2)); then
    RESULTS+=("| $name | skipped: ${remaining}s of the budget left | | |")
    STEP_RC=125
    return
  fi
  ((limit > remaining)) && limit=$remaining
  local t0=$SECONDS
  timeout --kill-after=5 "$limit" "$@" > "$OUT/$log" 2>&1
  STEP_RC=$?
  local took=$((SECONDS - t0)) status=passed
  if ((STEP_RC == 124 || STEP_RC == 137)); then
    status="TIMED OUT after ${limit}s"
    FAILED=1
  elif ((STEP_RC != 0)); then
    status="FAILED (exit $STEP_RC)"
    FAILED=1
  fi
  RESULTS+=("| $name | $status | $took | $(summary "$OUT/$log") |")
}

# The numbers worth a line in the report from a step's log.
summary() {
  local log=$1 line
  line=$(grep -hE '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?' "$log" |
         sed -E 's/\[ *//; s/ *\]//; s/, listed below://; s/\.$//' | paste -sd ';' -)
  [[ -n "$line" ]] && { echo "$line"; return; }
  grep -hE '^\[[0-9]+\] VALID' "$log" | tail -1
}

# ---- the machine ----
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory \
    --format=csv,noheader 2>&1 | head -2 | tr '\n' ' ')"
  echo "nvcc: $(nvcc --version 2>/dev/null | tail -1 || echo none)"
  echo "cmake: $(cmake --version 2>/dev/null | head -1 || echo none)"
  echo "cpu: $(nproc) cores, $(uname -m)"
  echo "torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tail -1)"
  echo "gtest: $(find /usr /usr/local -name 'GTestConfig.cmake' -print -quit 2>/dev/null || true)"
  echo "benchmark: $(find /usr /usr/local -name 'benchmarkConfig.cmake' -print -quit 2>/dev/null || true)"
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

# ---- the programs: carried, or built here ----
BUILD=""
if [[ -f "$CARRY/programs.tar.xz" ]]; then
  tar -C "$ROOT" -xJf "$CARRY/programs.tar.xz"
  BUILD=$(tar -tJf "$CARRY/programs.tar.xz" | head -1 | cut -d/ -f1)
  # Tests and the CLI were compiled with absolute paths into the source and build trees of
  # the machine that built them: make those paths lead here.
  src=$(sed -n 's/^source_dir=//p' "$BUILD/BUILD_INFO")
  if [[ -n "$src" && "$src" != "$ROOT" && ! -e "$src" ]]; then
    mkdir -p "$(dirname "$src")" && ln -s "$ROOT" "$src"
  fi
  note "programs carried: $(tr '\n' ' ' < "$BUILD/BUILD_INFO")"
else
  BUILD="build-gpu"
  tests=OFF
  [[ -n "$(find /usr /usr/local -name 'GTestConfig.cmake' -print -quit 2>/dev/null)" ]] && tests=ON
  bench=OFF
  [[ -n "$(find /usr /usr/local -name 'benchmarkConfig.cmake' -print -quit 2>/dev/null)" ]] && bench=ON
  note "nothing carried: building here (tests $tests, benchmarks $bench)"
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  step "build (cmake, nvcc)" 200 build.log bash -c "cmake -S . -B $BUILD ${generator[*]} \
    -DIGNIS_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DIGNIS_BUILD_TESTS=$tests \
    -DIGNIS_BUILD_BENCH=$bench && cmake --build $BUILD -j $(nproc)"
fi

# cuBLAS, cuDNN and Google Benchmark: the toolkit's, PyTorch's wheels', or carried ones.
lib_dirs=("$ROOT/$BUILD/lib" /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib)
torch_libs=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null)
[[ -n "$torch_libs" ]] && lib_dirs+=("$torch_libs")
# cuDNN (linked when the build found it): the toolkit's, else PyTorch's wheel's.
cudnn_libs=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib"))' 2>/dev/null)
[[ -n "$cudnn_libs" ]] && lib_dirs+=("$cudnn_libs")
LD_LIBRARY_PATH=$(IFS=:; echo "${lib_dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

CLI=$BUILD/apps/ignis
CUDA_TESTS=$BUILD/tests/cuda_tests
for program in "$CLI" "$CUDA_TESTS"; do
  if [[ -x "$program" ]] && ldd "$program" | grep -q 'not found'; then
    note "$program: missing libraries: $(ldd "$program" | grep 'not found' | tr -s ' \t\n' ' ')"
  fi
done

# ---- 1. the CPU text job, in the background (its accuracy is the reference) ----
DATA=(--train datasets/wordnet/train.csv --valid datasets/wordnet/valid.csv
      --test datasets/wordnet/test.csv)
EPOCHS=2
cpu_pid=""
if [[ -x "$CLI" ]]; then
  cpu_t0=$SECONDS
  ( timeout 240 "$CLI" train "${DATA[@]}" --epochs "$EPOCHS" --device cpu --threads 8 \
      --out "$SCRATCH/submit_cpu.csv" > "$OUT/train_cpu.raw" 2>&1; echo $? > "$OUT/train_cpu.rc" ) &
  cpu_pid=$!
fi

# ---- 2. every CUDA test ----
if [[ -x "$CUDA_TESTS" ]]; then
  step "cuda_tests (CPU-vs-CUDA parity)" 120 cuda_tests.log "$CUDA_TESTS" --gtest_color=no
  device_line=$(grep -h '^\[ device' "$OUT/cuda_tests.log" | head -1)
  [[ -n "$device_line" ]] && note "$device_line"
  # The end-to-end runs (tests/cuda/end_to_end_test.cpp): 20 training steps, CPU vs CUDA.
  e2e=$(grep -hE '^\[ +(OK|FAILED|SKIPPED) +\] CudaEndToEnd\.' "$OUT/cuda_tests.log" |
        sed -E 's/^\[ +([A-Z]+) +\] CudaEndToEnd\.([A-Za-z]+).*/\2 \1/' | sort -u |
        paste -sd ',' -)
  note "end to end, 20 training steps on CUDA vs the CPU: ${e2e:-not run}"
  skipped=$(grep -hE '^\[  SKIPPED \] [0-9]+ test' "$OUT/cuda_tests.log" | grep -oE '[0-9]+' | head -1)
  if [[ -n "$skipped" ]]; then
    note "$skipped CUDA tests SKIPPED: ignis saw no GPU ($(grep -h -A1 'Skipped$' "$OUT/cuda_tests.log" | sed -n 2p))"
    FAILED=1
  fi
else
  RESULTS+=("| cuda_tests | not built (no GoogleTest here, nothing carried) | | |")
fi

# ---- 3. ignis train --device cuda on the default data ----
if [[ -x "$CLI" ]]; then
  step "ignis train --device cuda ($EPOCHS epochs)" 150 train_cuda.raw \
    "$CLI" train "${DATA[@]}" --epochs "$EPOCHS" --device cuda --out "$SCRATCH/submit_cuda.csv"
  # Progress bars make the raw log large: keep the per-epoch lines and the seconds per epoch.
  grep -aE '^\[[0-9]+\]|rror|s per epoch' "$OUT/train_cuda.raw" > "$OUT/train_cuda.log"
  rm -f "$OUT/train_cuda.raw"
else
  RESULTS+=("| ignis train --device cuda | not built | | |")
fi

# ---- 4. GPU benchmarks: every built program named *cuda*bench* or *gpu*bench* ----
while IFS= read -r bench; do
  step "$(basename "$bench")" 60 "bench_$(basename "$bench").log" "$bench"
done < <(find "$BUILD/bench" -maxdepth 2 -type f -perm -u+x \( -name '*cuda*bench*' -o -name '*gpu*bench*' \) 2>/dev/null)

# ---- 5. PyTorch CUDA on the same kernels' work, for the ratios ----
# Each line has cuda_bench's label and format, timed the same way (CUDA events over 50 calls
# after 3 warm-up calls), so that step 5b can pair them.
step "PyTorch CUDA baseline" 60 torch_baseline.log python3 - << 'PY'
import torch
assert torch.cuda.is_available(), "PyTorch sees no GPU"
torch.backends.cuda.matmul.allow_tf32 = False
dev = torch.device("cuda")
def ms(fn, iters=50):
    for _ in range(3): fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters): fn()
    stop.record(); stop.synchronize()
    return start.elapsed_time(stop) / iters
def gbps(label, nbytes, fn):
    t = ms(fn); print(f"{label:<40} {t * 1e3:9.1f} us  {nbytes / t * 1e-6:8.1f} GB/s")
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))
for m, n, k in ((256,) * 3, (1024,) * 3, (2048,) * 3, (4096,) * 3, (64, 3072, 768), (64, 4, 64)):
    a, b = torch.randn(m, k, device=dev), torch.randn(k, n, device=dev)
    t = ms(lambda: a @ b, 20 if m * n * k > 2**30 else 100)
    print(f"sgemm {m:5d} x {n:5d} x {k:5d}  torch {2 * m * n * k / t * 1e-6:8.1f} GFLOP/s")
n, side = 1 << 26, 1 << 13
f32 = 4.0 * n
x, y, out = (torch.randn(n, device=dev) for _ in range(3))
out64 = torch.empty(n, device=dev, dtype=torch.float64)
out_bool = torch.empty(n, device=dev, dtype=torch.bool)
gbps("fill float32 (write only)", f32, lambda: out.fill_(1.0))
gbps("copy float32", 2 * f32, lambda: out.copy_(x))
gbps("copy float32 -> float64", 3 * f32, lambda: out64.copy_(x))
square, out_square = x.view(side, side), out.view(side, side)
gbps("copy of a transposed (8192, 8192)", 2 * f32, lambda: out_square.copy_(square.t()))
gbps("add float32 (16-byte vector path)", 3 * f32, lambda: torch.add(x, y, out=out))
gbps("add float32, unaligned (scalar path)", 3 * f32, lambda: torch.add(x[1:], y[1:], out=out[1:]))
bias = torch.randn(side, device=dev)
gbps("add a broadcast row to (8192, 8192)", 2 * f32,
     lambda: torch.add(square, bias, out=out_square))
gbps("exp float32", 2 * f32, lambda: torch.exp(x, out=out))
gbps("gelu (tanh) float32", 2 * f32, lambda: torch.nn.functional.gelu(x, approximate="tanh"))
gbps("gt float32 -> bool", 2.25 * f32, lambda: torch.gt(x, y, out=out_bool))
x64, y64 = (torch.randn(n // 2, device=dev, dtype=torch.float64) for _ in range(2))
gbps("mul float64 (2^25 elements)", 3 * f32, lambda: torch.mul(x64, y64, out=out64[: n // 2]))
gbps("raw::add float32 (op, allocating)", 3 * f32, lambda: x + y)
host = torch.empty(n)
gbps("host -> device float32 (pageable)", f32, lambda: out.copy_(host))
gbps("device -> host float32 (pageable)", f32, lambda: host.copy_(x))
host_pinned = torch.empty(n).pin_memory()
gbps("host -> device float32 (pinned)", f32, lambda: out.copy_(host_pinned))
gbps("device -> host float32 (pinned)", f32, lambda: host_pinned.copy_(x))
mat = torch.randn(side, side, device=dev)
gbps("sum of 2^26 float32", f32, lambda: x.sum())
gbps("row sums of (8192, 8192)", f32, lambda: mat.sum(1))
gbps("column sums of (8192, 8192)", f32, lambda: mat.sum(0))
gbps("argmax of rows of (8192, 8192)", f32, lambda: mat.argmax(1))
gbps("softmax of rows of (8192, 8192)", 2 * f32, lambda: torch.softmax(mat, 1))
gbps("log_softmax over dim 0 of (8192, 8192)", 2 * f32, lambda: torch.log_softmax(mat, 0))
# A training step's fused kernels, as cuda_bench's bench_adam, bench_cross_entropy and
# bench_embedding_bag: same shapes, same byte counts, through the API a training loop calls.
params = [torch.randn(s, device=dev, requires_grad=True) for s in ((81040, 64), (41, 64), (41,))]
for p in params:
    p.grad = torch.randn_like(p)
numel = sum(p.numel() for p in params)
adam = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-5, fused=True)
gbps("adam step, 5.19M float32 params", 28.0 * numel, adam.step)
adam_foreach = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-5, foreach=True)
gbps("adam step, torch foreach (not fused)", 28.0 * numel, adam_foreach.step)
for rows, classes in ((256, 41), (4096, 1000)):
    logits = torch.randn(rows, classes, device=dev, requires_grad=True)
    target = torch.randint(0, classes, (rows,), device=dev)
    def ce_step():
        logits.grad = None
        torch.nn.functional.cross_entropy(logits, target).backward()
    gbps(f"cross_entropy fwd+bwd ({rows}, {classes})", 12.0 * rows * classes, ce_step)
V, D, B, L = 60000, 64, 256, 20
N = B * L
weight = torch.randn(V, D, device=dev, requires_grad=True)
indices = torch.randint(0, V, (N,), device=dev)
offsets = torch.arange(0, N, L, device=dev)
def bag_step():
    weight.grad = None
    torch.nn.functional.embedding_bag(indices, weight, offsets, mode="mean").sum().backward()
gbps("embedding_bag mean fwd+bwd V=60000", 4.0 * (2 * N * D + 2 * B * D + V * D) + 16.0 * N,
     bag_step)
PY

# ---- 5b. ignis beside PyTorch: cuda_bench's lines paired with the baseline's by label ----
SIDE_BY_SIDE=$OUT/side_by_side.md
if [[ -f "$OUT/bench_cuda_bench.log" && -f "$OUT/torch_baseline.log" ]]; then
  python3 - "$OUT/bench_cuda_bench.log" "$OUT/torch_baseline.log" > "$SIDE_BY_SIDE" << 'PY'
import re, sys
def rates(path):
    found = {}
    for line in open(path, errors="replace"):
        m = re.match(r"(sgemm [\d x]+?)  (?:ignis|torch) +([\d.]+) GFLOP/s", line)
        if m:
            found[m.group(1)] = float(m.group(2))
            continue
        m = re.match(r"(.{40}) +[\d.]+ us +([\d.]+) GB/s", line)
        if m:
            found[m.group(1).strip()] = float(m.group(2))
    return found
ignis, torch = rates(sys.argv[1]), rates(sys.argv[2])
print("| work | ignis | PyTorch CUDA | ignis / PyTorch |")
print("|---|---|---|---|")
for label, rate in ignis.items():
    unit = "GFLOP/s" if label.startswith("sgemm") else "GB/s"
    other = torch.get(label)
    ratio = f"{rate / other:.2f}" if other else "n/a"
    print(f"| {label} | {rate:.1f} {unit} | {other or 0:.1f} {unit} | {ratio} |")
PY
fi

# ---- 5c. seconds per epoch of whole jobs on PyTorch CUDA ----
# The text job: bench/text_job_torch.py's tokenizer, vocabulary, model and batch order, on the
# GPU, batches collated on the host into pinned memory and copied to the device as `ignis train
# --device cuda` does (one loss.item() per step, as the CLI). The cnn: `ignis train-images
# --model cnn`'s network (bench/image_job_torch.py) on Fashion-MNIST-sized random data (60000
# images 1x28x28, 10 classes, batch 128, Adam), since the data need not be on this machine;
# step 5d runs ignis on the same kind of data. Both recipes are the CLIs' defaults (text: batch
# 256, lr 1e-2; cnn: batch 128, lr 1e-3).
step "PyTorch CUDA: text job and cnn, s/epoch" 120 torch_epochs.log python3 - "${DATA[@]:1:1}" "$EPOCHS" << 'PY'
import statistics, sys, time, types
import torch
sys.path.insert(0, "bench")
import text_job_torch as tj
import image_job_torch as ij
assert torch.cuda.is_available(), "PyTorch sees no GPU"
dev = torch.device("cuda")
torch.manual_seed(0)

args = types.SimpleNamespace(text_column="text", label_column="label", id_column="id",
                             bigrams=False)
_, docs, labels = tj.read_csv(sys.argv[1], args, require_label=True)
vocab = tj.build_vocab(docs, 1)
classes = sorted(set(labels), key=lambda c: c.encode("utf-8"))
index = {c: i for i, c in enumerate(classes)}
rows = tj.encode(docs, vocab)
targets = torch.tensor([index[c] for c in labels], dtype=torch.int64)
model = tj.TextModel("bag", len(vocab), 64, 128, len(classes), 0.5).to(dev)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
criterion = torch.nn.CrossEntropyLoss()
seconds = []
for epoch in range(1, int(sys.argv[2]) + 1):
    perm = tj.shuffled_indices(len(rows), 0, epoch)
    torch.cuda.synchronize()
    start = time.perf_counter()
    model.train()
    for order in tj.batches(len(rows), 256, perm):
        inputs, offsets = tj.collate(rows, order)
        inputs = inputs.pin_memory().to(dev, non_blocking=True)
        offsets = offsets.pin_memory().to(dev, non_blocking=True)
        y = targets[order].pin_memory().to(dev, non_blocking=True)
        optimizer.zero_grad()
        loss = criterion(model(inputs, offsets), y)
        loss.item()
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    seconds.append(time.perf_counter() - start)
print(f"torch cuda text job (bag, batch 256, vocabulary {len(vocab)}): "
      f"{statistics.mean(seconds):.2f} s per epoch (epochs: {', '.join(f'{s:.2f}' for s in seconds)})")

torch.backends.cudnn.benchmark = True
images = torch.randn(60000, 1, 28, 28).pin_memory()
image_targets = torch.randint(0, 10, (60000,))
cnn = ij.make_model("cnn", 28, 28, 10).to(dev)
optimizer = torch.optim.Adam(cnn.parameters(), lr=1e-3, weight_decay=1e-5)
seconds = []
for epoch in range(1, int(sys.argv[2]) + 1):
    perm = torch.randperm(60000)
    torch.cuda.synchronize()
    start = time.perf_counter()
    cnn.train()
    for first in range(0, 60000, 128):
        order = perm[first:first + 128]
        x = images[order].pin_memory().to(dev, non_blocking=True)
        y = image_targets[order].to(dev, non_blocking=True)
        optimizer.zero_grad()
        loss = criterion(cnn(x), y)
        loss.item()
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    seconds.append(time.perf_counter() - start)
print(f"torch cuda cnn job (Fashion-MNIST-sized, batch 128): "
      f"{statistics.mean(seconds):.2f} s per epoch (epochs: {', '.join(f'{s:.2f}' for s in seconds)})")
PY
ignis_epoch=$(grep -ahoE '[0-9.]+ s per epoch' "$OUT/train_cuda.log" 2>/dev/null | head -1)
torch_text_epoch=$(grep -ahoE 'text job .*: [0-9.]+ s per epoch' "$OUT/torch_epochs.log" 2>/dev/null |
                   grep -oE '[0-9.]+ s per epoch')
torch_cnn_epoch=$(grep -ahoE 'cnn job .*: [0-9.]+ s per epoch' "$OUT/torch_epochs.log" 2>/dev/null |
                  grep -oE '[0-9.]+ s per epoch')
note "text job on the GPU (training loop only, mean of $EPOCHS epochs): ignis ${ignis_epoch:-none}, PyTorch CUDA ${torch_text_epoch:-none}"

# ---- 5d. ignis train-images --model cnn --device cuda on the same kind of random data ----
# IDX files of random pixels and labels, Fashion-MNIST's sizes (60000 + 10000 images 28x28).
ignis_cnn_epoch=""
if [[ -x "$CLI" ]]; then
  python3 - "$SCRATCH/images" << 'PY'
import os, struct, sys
import numpy as np
folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
rng = np.random.default_rng(0)
for split, n in (("train", 60000), ("t10k", 10000)):
    with open(os.path.join(folder, f"{split}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28))
        f.write(rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8).tobytes())
    with open(os.path.join(folder, f"{split}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n))
        f.write(rng.integers(0, 10, size=n, dtype=np.uint8).tobytes())
PY
  step "ignis train-images --model cnn --device cuda ($EPOCHS epochs, random data)" 120 \
    train_images_cuda.raw "$CLI" train-images --data "$SCRATCH/images" --model cnn --epochs "$EPOCHS" \
    --device cuda --out "$SCRATCH/images_predictions.csv"
  grep -aE '^\[[0-9]+\]|rror|s per epoch' "$OUT/train_images_cuda.raw" > "$OUT/train_images_cuda.log" \
    2>/dev/null
  rm -f "$OUT/train_images_cuda.raw"
  ignis_cnn_epoch=$(grep -ahoE '[0-9.]+ s per epoch' "$OUT/train_images_cuda.log" | head -1)
fi
note "cnn job on the GPU (training loop only): ignis ${ignis_cnn_epoch:-none}, PyTorch CUDA ${torch_cnn_epoch:-none}"

# ---- 6. the CPU job's result ----
if [[ -n "$cpu_pid" ]]; then
  wait "$cpu_pid"
  rc=$(cat "$OUT/train_cpu.rc" 2>/dev/null || echo 1)
  grep -aE '^\[[0-9]+\]|rror' "$OUT/train_cpu.raw" > "$OUT/train_cpu.log"
  rm -f "$OUT/train_cpu.raw" "$OUT/train_cpu.rc"
  status=passed
  ((rc != 0)) && { status="FAILED (exit $rc)"; FAILED=1; }
  RESULTS+=("| ignis train --device cpu ($EPOCHS epochs, reference) | $status | $((SECONDS - cpu_t0)) | $(summary "$OUT/train_cpu.log") |")
  # Merged with the CUDA job's lines into one log, to stay within the files that come back.
  { echo "== cpu"; cat "$OUT/train_cpu.log"; echo "== cuda"; cat "$OUT/train_cuda.log" 2>/dev/null; } \
    > "$OUT/train.log"
  cpu_acc=$(grep -hE '^\[[0-9]+\] VALID' "$OUT/train_cpu.log" | tail -1 | sed -E 's/.*VALID +Accuracy: ([0-9.]+).*/\1/')
  cuda_acc=$(grep -hE '^\[[0-9]+\] VALID' "$OUT/train_cuda.log" 2>/dev/null | tail -1 | sed -E 's/.*VALID +Accuracy: ([0-9.]+).*/\1/')
  note "final VALID accuracy: cpu ${cpu_acc:-none}, cuda ${cuda_acc:-none}"
  # One seed gives one initialisation and one batch order on both devices: the accuracies
  # may differ only by rounding (float32 sums in another order).
  if [[ -n "$cpu_acc" && -n "$cuda_acc" ]] &&
     awk -v a="$cpu_acc" -v b="$cuda_acc" 'BEGIN { d = a - b; exit !(d > 0.02 || d < -0.02) }'; then
    note "the CUDA run's accuracy differs from the CPU's by more than 0.02: FAILED"
    FAILED=1
  fi
  rm -f "$OUT/train_cpu.log" "$OUT/train_cuda.log"
fi

# ---- 7. the other test suites (CPU; CI runs them too), while the budget lasts ----
for suite in "$BUILD"/tests/*_tests; do
  [[ -x "$suite" && "$suite" != "$CUDA_TESTS" ]] || continue
  step "$(basename "$suite")" 60 "suite.log" "$suite" --gtest_brief=1 --gtest_color=no
  cat "$OUT/suite.log" >> "$OUT/tests.log"
  rm -f "$OUT/suite.log"
done

# ---- the report ----
{
  echo "# GPU check $(date -u +%Y-%m-%d)"
  echo
  echo '```'
  cat "$OUT/machine.txt"
  echo '```'
  echo
  echo "| step | result | seconds | numbers |"
  echo "|---|---|---|---|"
  printf '%s\n' "${RESULTS[@]}"
  echo
  for n in "${NOTES[@]}"; do echo "- $n"; done
  if [[ -s "$SIDE_BY_SIDE" ]]; then
    echo
    echo "## ignis beside PyTorch CUDA (same work, rates from CUDA events; higher is better)"
    echo
    cat "$SIDE_BY_SIDE"
  fi
  echo
  echo "Total: $((SECONDS - STARTED)) s. Logs beside this file."
  for log in "$OUT"/bench_*.log "$OUT"/torch_baseline.log; do
    [[ -f "$log" ]] || continue
    echo
    echo "## $(basename "$log" .log)"
    echo '```'
    tail -40 "$log"
    echo '```'
  done
} > "$REPORT"
rm -f "$OUT/machine.txt"
cat "$REPORT"
exit "$FAILED"
