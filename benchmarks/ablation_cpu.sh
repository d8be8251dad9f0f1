#!/usr/bin/env bash
# The trick ablation of docs/results/ablation.md: ResNet-18 on the generated 16-class shapes set at 40 px, the
# recipe and budget of configs/ablations/base_resnet18_shapes.yaml (30 per class, 30 epochs, batch 64, CosineWarmup, no EMA).
# First pass: the base and six tricks, all with seed 0. Then the base and the best trick of the first pass again
# with seed 1, so that the seed-to-seed noise can be set against the differences. One run after the other,
# 2 OpenMP threads; 68 min on this 2-core CPU (2026-11-23). Reruns skip finished runs and resume interrupted ones.
# Usage: bash benchmarks/ablation_cpu.sh [extra tools/ablate.py options]. Publishes the records at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# Runs go to $RUNS_OUT/ablation/ (default output/long_runs), records to $RESULTS_DIR (default docs/results).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
RUNS_OUT=${RUNS_OUT:-output/long_runs}
RESULTS_DIR=${RESULTS_DIR:-docs/results}
python tools/ablate.py -c configs/ablations/base_resnet18_shapes.yaml \
  --tricks acblock,blurpool,acon_c,se,dropblock,spconv --seeds 0 --confirm-seeds 1 \
  --out "$RUNS_OUT/ablation" "$@"
# publish each run's text record (docs/results/runs/ablation/<variant>_s<seed>/) and regenerate the page's tables
for run in "$RUNS_OUT"/ablation/*_s*; do
  if [ -d "$run" ]; then
    python -m paddle_tricks publish "$run" --page ablation --command "bash benchmarks/ablation_cpu.sh" \
      --results-dir "$RESULTS_DIR"
  fi
done
python -m paddle_tricks report --page ablation --results-dir "$RESULTS_DIR"
