#!/usr/bin/env bash
# Issue 14, item 5: the trick ablation on real images. ResNet-18 from scratch on Caltech-16 at 96 px, 30 epochs,
# the tutorial's plain recipe (configs/caltech16/cpu/ablation/base_resnet18_96.yaml), against the six tricks of
# docs/results/ablation.md, one delta config each beside the base: ACBlock, BlurPool, ACON-C, SE, DropBlock, SPConv.
# Every variant and the base with seeds 0 and 1 (14 runs), two side by side, one OpenMP thread each, in pairs
# (base_s0, base_s1, se_s0, se_s1, ...) so that an interrupted queue leaves whole rows. Each run is a plain
# `paddle-tricks train` of its variant config with `-o Global.seed=S` (what `paddle-tricks ablate` runs), its record
# is published to docs/results/runs/ablation_caltech16/<variant>_s<seed>/ as soon as it finishes, and reruns skip
# the published ones, so the table fills up over several sittings, on any machine.
#   nohup bash benchmarks/ablation_caltech16.sh > output/ablation_caltech16.log 2>&1 &
# CPU minutes per run, one thread: measured wall time where recorded (base 56-62 and SE 56-57 min on an AMD EPYC,
# DropBlock 34-39 min on an Intel Xeon, 2026-12-01/02), the others 1.4x their first estimate from 3 timed training
# steps (the ratio of measured to estimated for base and SE).
source "$(dirname "$0")/long_runs.sh"
DIR=configs/caltech16/cpu/ablation
for v in base:60 se:57 dropblock:39 blurpool:73 spconv:70 acblock:88 acon_c:102; do
  config="$DIR/${v%%:*}.yaml"
  [ "${v%%:*}" = base ] && config="$DIR/base_resnet18_96.yaml"
  for seed in 0 1; do
    plan ablation_caltech16 "${v%%:*}_s$seed" "${v##*:}" -c "$config" -o "Global.seed=$seed" \
      -o "Data.root=$SHARED/data/caltech101"
  done
done
run_plan
finish_pages ablation_caltech16
