#!/usr/bin/env bash
# SGEMM, ignis against OpenBLAS, each library in a process of its own: `gemm_vs_openblas
# --only ignis` and `--only openblas` alternate ROUNDS times for each thread count, and the
# table gives each shape's median GFLOP/s per library and thread count, then best against
# best. In one process OpenBLAS's workers keep spinning after each call and hold a vCPU that
# the other library's threads then wait for; apart, neither sees the other's threads. Not
# the one-process table (gemm_vs_openblas without --only), which also measures the FMA peak.
#
# Usage: bench/gemm_two_processes.sh BUILD_DIR [ROUNDS=7] [THREADS="1 2"] [FILTER]
set -euo pipefail
build=${1:?usage: bench/gemm_two_processes.sh BUILD_DIR [ROUNDS] [THREADS] [FILTER]}
rounds=${2:-7}
thread_counts=${3:-1 2}
filter=${4:-}
program="$build/bench/gemm_vs_openblas"
[[ -x "$program" ]] || { echo "gemm_two_processes.sh: $program not built" >&2; exit 2; }
[[ $rounds =~ ^[0-9]+$ ]] && (( rounds >= 5 )) ||
  { echo "gemm_two_processes.sh: ROUNDS must be a number >= 5, got '$rounds'" >&2; exit 2; }
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

results=$(mktemp)
trap 'rm -f "$results"' EXIT
# Each process: one warm-up call per shape, then the median of 3 runs of about 20 ms.
for ((r = 0; r < rounds; ++r)); do
  for threads in $thread_counts; do
    # The ignis side with OPENBLAS_NUM_THREADS=1: a threaded OpenBLAS starts its workers when
    # the library loads, and they spin for a while even if it is never called.
    OPENBLAS_NUM_THREADS=1 "$program" --only ignis --threads "$threads" --runs 3 \
      ${filter:+--filter "$filter"} | sed "s/^/ignis $threads /" >>"$results"
    "$program" --only openblas --threads "$threads" --runs 3 ${filter:+--filter "$filter"} |
      sed "s/^/openblas $threads /" >>"$results"
  done
done

echo "SGEMM GFLOP/s, each library in its own process, median of $rounds alternating rounds;"
echo "threads: $thread_counts; best = the better thread count of each library"
awk -v counts="$thread_counts" '
  {
    key = $1 " " $2 " " $3
    values[key] = values[key] " " $4
    if (!($3 in seen)) { seen[$3] = 1; order[n++] = $3 }
  }
  function median(list,   a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 2; i <= k; ++i)
      for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    nt = split(counts, ts, " ")
    printf "%-18s", "shape"
    for (t = 1; t <= nt; ++t) printf " %9s %9s", "ignis/" ts[t], "OB/" ts[t]
    printf " %9s %9s %8s\n", "ignis", "OB", "best/best"
    worst_sq = worst_mlp = 1e300
    for (i = 0; i < n; ++i) {
      s = order[i]; best_a = best_b = 0
      printf "%-18s", s
      for (t = 1; t <= nt; ++t) {
        a = median(values["ignis " ts[t] " " s]); b = median(values["openblas " ts[t] " " s])
        printf " %9.1f %9.1f", a, b
        if (a > best_a) best_a = a
        if (b > best_b) best_b = b
      }
      if (best_a <= 0 || best_b <= 0) { printf "   (a library gave no time)\n"; continue }
      r = best_a / best_b
      printf " %9.1f %9.1f %8.2f\n", best_a, best_b, r
      if (s ~ /^square_/ && substr(s, 8) + 0 >= 256 && r < worst_sq) { worst_sq = r; wsq = s }
      if (s ~ /^mlp_/ && r < worst_mlp) { worst_mlp = r; wmlp = s }
    }
    printf "\n"
    if (wsq != "")
      printf "square 256-2048: ignis >= 1.00x OpenBLAS on every shape, best against best: %s (lowest %.2fx, %s)\n", (worst_sq >= 1 ? "PASS" : "FAIL"), worst_sq, wsq
    if (wmlp != "")
      printf "MLP shapes: ignis >= 1.00x OpenBLAS on every shape, best against best: %s (lowest %.2fx, %s)\n", (worst_mlp >= 1 ? "PASS" : "FAIL"), worst_mlp, wmlp
  }' "$results"
