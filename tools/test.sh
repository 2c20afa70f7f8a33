#!/usr/bin/env bash
# Configures, builds and tests ignis in one go: tools/test.sh [build-dir] [cmake options...]
# (default build-dir: build). Warnings are errors. IGNIS_JOBS sets the parallel jobs
# (default: every core). Not an installer: dependencies must be present (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-build}
if (($# > 0)); then shift; fi
jobs=${IGNIS_JOBS:-$(nproc)}

cmake -S . -B "$build_dir" -DIGNIS_WERROR=ON "$@"
cmake --build "$build_dir" -j "$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
