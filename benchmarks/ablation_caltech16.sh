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
# CPU minutes per run, one thread, two runs side by side: measured wall time (base 56-62 and SE 56-57 min on an
# AMD EPYC 2026-12-01; DropBlock 34-39, BlurPool 49, SPConv 47, ACBlock 50, ACON-C 36 min on an Intel Xeon
# 2026-12-02). ACON-C is the one run whose time depends on the machine's vector unit: 6-8 s per batch beside another
# run on an AVX2 AMD EPYC (2026-12-02), and 135 min for seed 0 alone at 2 threads there; 1.5 s per batch, 36 min
# for seed 1, on an AVX-512 Intel Xeon the same day.
source "$(dirname "$0")/long_runs.sh"
DIR=configs/caltech16/cpu/ablation
for v in base:60 se:57 dropblock:39 blurpool:49 spconv:47 acblock:50 acon_c:40; do
  config="$DIR/${v%%:*}.yaml"
  [ "${v%%:*}" = base ] && config="$DIR/base_resnet18_96.yaml"
  for seed in 0 1; do
    plan ablation_caltech16 "${v%%:*}_s$seed" "${v##*:}" -c "$config" -o "Global.seed=$seed" \
      -o "Data.root=$SHARED/data/caltech101"
  done
done
run_plan
finish_pages ablation_caltech16
