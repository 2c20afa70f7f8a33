#!/usr/bin/env bash
# Runs the Fashion-MNIST job side by side, in one go: `ignis train-images` and
# bench/image_job_torch.py (PyTorch, CPU) with the same data, model, flags and thread count
# (PyTorch with OMP_WAIT_POLICY=passive, so that idle OpenMP threads do not spin), alternating
# the two at each thread count. Prints the median seconds per training epoch (the training
# loop only, evaluations excluded: the CLI's --log-csv column train_seconds, the same column
# of the PyTorch script's log), the test accuracy after the last epoch, and ignis / PyTorch.
# A benchmark driver, not a test: it needs python3 with torch and numpy.
#
#   bench/image_job_side_by_side.sh [--ignis build/apps/ignis] [--model mlp|cnn] [--epochs 5]
#       [--threads "1 2"] [--data /usr/share/datasets/fashion-mnist] [--limit N] [--workdir DIR]
#       [--init pytorch|he]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
ignis="$root/build/apps/ignis"
data=/usr/share/datasets/fashion-mnist
model=mlp
epochs=5
threads="1 2"
limit=
workdir=
init=pytorch

while [[ $# -gt 0 ]]; do
  case "$1" in
    --ignis) ignis=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image_job_side_by_side.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$ignis" ]] || { echo "--ignis: no executable '$ignis' (build the ignis_cli target)" >&2; exit 2; }
workdir=${workdir:-$(mktemp -d -t image_job.XXXXXX)}
mkdir -p "$workdir"

flags=(--data "$data" --model "$model" --epochs "$epochs" --batch-size 128 --lr 0.001
       --weight-decay 1e-05 --seed 0 --init "$init")
[[ -n "$limit" ]] && flags+=(--limit "$limit")

# The value of column $2 of CSV file $1: the median over the rows, or the last row's with $3=last.
column() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                        { print $c }' "$1" |
    if [[ "${3:-median}" == last ]]; then tail -n 1; else
      sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
    fi
}

declare -A seconds accuracy
for t in $threads; do
  echo "== pytorch, $t thread(s)"
  OMP_NUM_THREADS=$t OMP_WAIT_POLICY=passive python3 "$here/image_job_torch.py" "${flags[@]}" \
    --threads "$t" --out "$workdir/pytorch_t$t.csv" --log-csv "$workdir/pytorch_t${t}_log.csv" |
    grep -E '^\[[0-9]+\] (TRAIN|VALID)' | sed 's/^/    /'
  echo "== ignis, $t thread(s)"
  "$ignis" train-images "${flags[@]}" --threads "$t" --out "$workdir/ignis_t$t.csv" \
    --log-csv "$workdir/ignis_t${t}_log.csv" | grep -E '^\[[0-9]+\] (TRAIN|VALID)' | sed 's/^/    /'
  for f in pytorch ignis; do
    seconds[$f,$t]=$(column "$workdir/${f}_t${t}_log.csv" train_seconds)
    accuracy[$f,$t]=$(column "$workdir/${f}_t${t}_log.csv" valid_accuracy last)
  done
done

echo
echo "model $model, $epochs epochs, batch 128, Adam lr 1e-3 wd 1e-5; outputs in $workdir"
printf '%-9s %7s %16s %9s\n' framework threads 's/epoch(median)' 'test acc'
for t in $threads; do
  for f in pytorch ignis; do
    printf '%-9s %7s %16.3f %9.4f\n' "$f" "$t" "${seconds[$f,$t]}" "${accuracy[$f,$t]}"
  done
done
echo "ignis / PyTorch seconds per epoch (lower is better):"
best_i= best_p=
for t in $threads; do
  awk -v t="$t" -v i="${seconds[ignis,$t]}" -v p="${seconds[pytorch,$t]}" \
    'BEGIN { printf "  %s thread(s): %.3f / %.3f = %.2fx\n", t, i, p, i / p }'
  best_i=$(awk -v a="${best_i:-${seconds[ignis,$t]}}" -v b="${seconds[ignis,$t]}" 'BEGIN { print (b < a) ? b : a }')
  best_p=$(awk -v a="${best_p:-${seconds[pytorch,$t]}}" -v b="${seconds[pytorch,$t]}" 'BEGIN { print (b < a) ? b : a }')
done
awk -v i="$best_i" -v p="$best_p" \
  'BEGIN { printf "  best thread setting each: %.3f / %.3f = %.2fx\n", i, p, i / p }'
