#!/usr/bin/env bash
# The trick ablation of docs/results/ablation.md: ResNet-18 on the generated 16-class shapes set at 40 px, the
# recipe and budget of configs/ablations/base_resnet18_shapes.yaml (30 per class, 30 epochs, batch 64, CosineWarmup,
# no EMA; no download). The base and six tricks with seed 0, then the base and BlurPool (the best trick of the
# 2026-11-23 first pass, fixed here so that the runs are known in advance) with seed 1: 9 runs, the ones
# `paddle-tricks ablate -c configs/ablations/base_resnet18_shapes.yaml --tricks acblock,blurpool,acon_c,se,dropblock,spconv
# --seeds 0 --confirm-seeds 1` trains. Each is a plain `paddle-tricks train -c <variant>.yaml -o Global.seed=S`, two
# side by side at one OpenMP thread each, published to docs/results/runs/ablation/<variant>_s<seed>/ as soon as it
# finishes; reruns skip the published ones.
#   nohup bash benchmarks/ablation_cpu.sh > output/ablation_cpu.log 2>&1 &
# CPU minutes per run at 1 thread: 1.6x the 2-thread wall times of 2026-11-23 (AMD EPYC, 68 min for all 9 runs).
source "$(dirname "$0")/long_runs.sh"
DIR=configs/ablations
for run in base:0:9 acblock:0:15 blurpool:0:11 acon_c:0:10 se:0:9 dropblock:0:9 spconv:0:6 base:1:9 blurpool:1:11; do
  IFS=: read -r variant seed minutes <<< "$run"
  config="$DIR/$variant.yaml"
  [ "$variant" = base ] && config="$DIR/base_resnet18_shapes.yaml"
  plan ablation "${variant}_s$seed" "$minutes" -c "$config" -o "Global.seed=$seed"
done
run_plan
finish_pages ablation
