#!/usr/bin/env bash
# Issue 14, item 5: the trick ablation on real images. ResNet-18 from scratch on Caltech-16 at 96 px, 30 epochs,
# the tutorial's plain recipe (configs/caltech16/cpu/ablation/base_resnet18_96.yaml), against the six tricks of
# docs/results/ablation.md, one delta config each: ACBlock, BlurPool, ACON-C, SE, DropBlock, SPConv. Every variant
# and the base with seeds 0 and 1, through `paddle-tricks ablate` (one process per seed, side by side, one OpenMP
# thread each; ablate skips finished runs and resumes interrupted ones). Each finished run's record is published
# to docs/results/runs/ablation_caltech16/<variant>_s<seed>/ and docs/results/ablation_caltech16.md regenerated.
#   nohup bash benchmarks/ablation_caltech16.sh > output/ablation_caltech16.log 2>&1 &
# CPU minutes per run: 3 timed training steps (batch 32, 1 thread, CPU time) and one eval batch per variant,
# 2026-12-01 on the loaded machine, plus about 5 minutes of JPEG decoding.
source "$(dirname "$0")/long_runs.sh"
BASE=configs/caltech16/cpu/ablation/base_resnet18_96.yaml
OUT="$RUNS_OUT/ablation_caltech16"
for seed in 0 1; do
  for v in base:42 acblock:63 blurpool:52 acon_c:73 se:41 dropblock:41 spconv:50; do
    plan ablation_caltech16 "${v%%:*}_s$seed" "${v##*:}"   # for the estimate; ablate runs them
  done
done
print_estimate
mkdir -p "$OUT"
for seed in 0 1; do
  OMP_NUM_THREADS=1 python -m paddle_tricks ablate -c "$BASE" --seeds "$seed" --out "$OUT/seed$seed" --no-latency \
    -o "Data.root=$SHARED/data/caltech101" > "$OUT.seed$seed.log" 2>&1 &
done
wait || true
for run in "$OUT"/seed*/*_s*; do
  [ -d "$run" ] || continue
  python -m paddle_tricks publish "$run" --page ablation_caltech16 --results-dir "$RESULTS_DIR" \
    --command "paddle-tricks ablate -c $BASE --seeds ${run##*_s} --no-latency (bash benchmarks/ablation_caltech16.sh)" ||
    echo "not published: $run" >&2
done
finish_pages ablation_caltech16
