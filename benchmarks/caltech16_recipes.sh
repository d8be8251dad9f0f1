#!/usr/bin/env bash
# Issue 14, item 3: the suite's improved recipe against the AsymmNet tutorial's on Caltech-16, at the CPU size of
# configs/caltech16/cpu/ (112 px, 30 epochs): AsymmNet-L and MobileNetV2, each recipe with seeds 42 (the configs'
# own seed, that of the tutorial-recipe runs quoted in docs/results/caltech16.md, so those rows re-measure them) and
# 1. Also AsymmNet-S with the tutorial recipe, seed 42, the third quoted run. Records go to
# docs/results/runs/caltech16/<config>_s<seed>/ and the tables of docs/results/caltech16.md are regenerated.
# Resumable: rerun the same command after an interruption. Run it in the background on an idle machine:
#   nohup bash benchmarks/caltech16_recipes.sh > output/caltech16_recipes.log 2>&1 &
# CPU minutes per run: 3 timed training steps (batch 32, 1 thread, CPU time) and one eval batch, 2026-12-01, plus
# about 5 minutes of JPEG decoding; the improved recipe adds an EMA evaluation per epoch.
source "$(dirname "$0")/long_runs.sh"
ROOT=(-o "Data.root=$SHARED/data/caltech101")
for seed in 42 1; do
  for cfg in asymmnet_large_112:58 asymmnet_large_112_improved:60 mobilenet_v2_112:60 mobilenet_v2_112_improved:62; do
    plan caltech16 "${cfg%%:*}_s$seed" "${cfg##*:}" -c "configs/caltech16/cpu/${cfg%%:*}.yaml" "${ROOT[@]}" -o Global.seed=$seed
  done
done
plan caltech16 asymmnet_small_112_s42 31 -c configs/caltech16/cpu/asymmnet_small_112.yaml "${ROOT[@]}" -o Global.seed=42
run_plan
finish_pages caltech16
