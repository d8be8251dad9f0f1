#!/usr/bin/env bash
# The CPU reproduction runs of docs/RESULTS.md: MobileNetV2, AsymmNet-L and AsymmNet-S on Caltech-16 at 112 px,
# 30 epochs, the tutorial's recipe. The three runs go in parallel, one OpenMP thread each (2-core machine),
# so each run's wall time is about 1.5x what it would be alone.
# It publishes no record: benchmarks/caltech16_recipes.sh trains these three runs again (same configs and seed)
# with the improved-recipe comparison and publishes every record (docs/results/runs/caltech16/).
# Usage: bash benchmarks/caltech16_cpu.sh [CALTECH101_ROOT]   (default ../shared/data/caltech101)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-../shared/data/caltech101}
run() {
  local m=$1
  mkdir -p output/caltech16_cpu
  local start=$(date +%s)
  OMP_NUM_THREADS=1 python tools/train.py -c configs/caltech16/cpu/${m}_112.yaml -o Data.root="$ROOT" \
    -o Global.verbose=2 -o Global.log_freq=50 > output/caltech16_cpu/${m}_112.log 2>&1
  echo "$m wall_seconds=$(( $(date +%s) - start ))" >> output/caltech16_cpu/walltime.txt
}
run mobilenet_v2 & run asymmnet_large & run asymmnet_small & wait
