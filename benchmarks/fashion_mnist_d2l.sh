#!/usr/bin/env bash
# Issue 14, item 4: the d2l article's table on this CPU. Every net of the article (LeNet, LeNet-BN, AlexNet,
# VGG-11/4, NiN, GoogLeNet, ResNet-18, DenseNet; LeNet-BN also with the article's from-scratch BatchNorm) for its
# 10 epochs with its optimizer (plain SGD), batch size and learning rate, at the input size of
# configs/fashion_mnist/cpu/ (LeNet and LeNet-BN at the article's 28 px): the smallest size at which each net's
# last stage keeps a map of at least 2x2 (each config's header says why and gives its estimate). Records go to
# docs/results/runs/fashion_mnist/<net>_<size>/ and the tables of docs/results/fashion_mnist.md are regenerated.
# Resumable: rerun the same command after an interruption.
#   nohup bash benchmarks/fashion_mnist_d2l.sh > output/fashion_mnist_d2l.log 2>&1 &
# Longest runs first so that the two parallel runs end together. CPU minutes per run: CPU time of 2 timed SGD steps
# and one test batch at 1 thread on the loaded machine (2026-12-01), scaled to 10 epochs of 60,000 + 10,000 images.
source "$(dirname "$0")/long_runs.sh"
ROOT=(-o "Data.root=$SHARED/data/fashion-mnist")
for run in nin_100:202 resnet18_40:201 densenet_64:182 googlenet_40:147 alexnet_68:107 vgg11_small_32:50; do
  plan fashion_mnist "${run%%:*}" "${run##*:}" -c "configs/fashion_mnist/cpu/${run%%:*}.yaml" "${ROOT[@]}"
done
plan fashion_mnist lenet_28 5 -c configs/fashion_mnist/lenet.yaml "${ROOT[@]}"
plan fashion_mnist lenet_bn_28 2 -c configs/fashion_mnist/lenet_bn.yaml "${ROOT[@]}"
# the article's own (from-scratch) BatchNorm, quoted on the page next to Paddle's: 5-10x slower on the CPU
plan fashion_mnist lenet_bn_scratch_28 20 -c configs/fashion_mnist/lenet_bn.yaml "${ROOT[@]}" -o Arch.options.bn=scratch
run_plan
finish_pages fashion_mnist
