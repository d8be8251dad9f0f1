#!/usr/bin/env bash
# Issue 14, item 4: the d2l article's table on this CPU. Every net of the article (LeNet, LeNet-BN, AlexNet,
# VGG-11/4, NiN, GoogLeNet, ResNet-18, DenseNet; LeNet-BN also with the article's from-scratch BatchNorm) for its
# 10 epochs with its optimizer (plain SGD), batch size and learning rate, at the input size of
# configs/fashion_mnist/cpu/ (LeNet and LeNet-BN at the article's 28 px; each config's header says why that size and
# what its last stage sees). Records go to docs/results/runs/fashion_mnist/<net>_<size>/ and the tables of
# docs/results/fashion_mnist.md are regenerated. Resumable, and a run whose record is published is skipped, so the
# table fills up over several sittings; a sitting of these machines (a fresh machine for at most 3 hours) fits two
# of the runs side by side, e.g.
#   ONLY="nin_68 googlenet_32" nohup bash benchmarks/fashion_mnist_d2l.sh > output/fashion_mnist_d2l.log 2>&1 &
#   ONLY="resnet18_32 densenet_64" nohup bash benchmarks/fashion_mnist_d2l.sh > output/fashion_mnist_d2l.log 2>&1 &
# AlexNet takes 3.1 h at one thread, so it runs alone at two (about 1.8 h):
#   ONLY=alexnet_68 PARALLEL=1 THREADS=2 nohup bash benchmarks/fashion_mnist_d2l.sh > output/fashion_mnist_d2l.log 2>&1 &
# Minutes per run at 1 thread: the training steps timed on the idle machine (AMD EPYC, 2026-12-01; see each config's
# header) plus a tenth for the test passes; the LeNets from their records.
# Not every machine called "AMD EPYC" is that one: on an AVX2 EPYC (2026-12-02) ResNet-18 at 32 px stepped at 5.5 s
# (1 thread), 5.7 s (beside another run) and 4.3 s (alone, 2 threads) against the 2.69 s of its header, so there
# none of the four runs still to do (AlexNet, NiN, ResNet-18, DenseNet) fits a sitting; compare the first steps'
# rate in a run's log with its header, or read the bar's "training ETA". A second sitting there (2026-12-02,
# evening) timed NiN 68 px at 2.83 s and AlexNet 68 px at 3.96 s per step, each alone at 2 threads: 3.7 h and
# 5.2 h of training.
# On an AVX-512 Intel Xeon (2026-12-02) the steps took 0.72-0.73 of the headers beside a second run (ResNet-18
# 32 px: 1.97 s, 1 h 20 min of training; DenseNet 64 px: 2.41 s); there AlexNet (about 2.5 h at one thread) and
# NiN (about 1.6 h) fit one sitting side by side:
#   ONLY="alexnet_68 nin_68" nohup bash benchmarks/fashion_mnist_d2l.sh > output/fashion_mnist_d2l.log 2>&1 &
source "$(dirname "$0")/long_runs.sh"
ROOT=(-o "Data.root=$SHARED/data/fashion-mnist")
for run in alexnet_68:202 densenet_64:144 nin_68:126 googlenet_32:126 resnet18_32:116 vgg11_small_32:57; do
  plan fashion_mnist "${run%%:*}" "${run##*:}" -c "configs/fashion_mnist/cpu/${run%%:*}.yaml" "${ROOT[@]}"
done
plan fashion_mnist lenet_28 5 -c configs/fashion_mnist/lenet.yaml "${ROOT[@]}"
plan fashion_mnist lenet_bn_28 2 -c configs/fashion_mnist/lenet_bn.yaml "${ROOT[@]}"
# the article's own (from-scratch) BatchNorm, quoted on the page next to Paddle's: 5-10x slower on the CPU
plan fashion_mnist lenet_bn_scratch_28 20 -c configs/fashion_mnist/lenet_bn.yaml "${ROOT[@]}" -o Arch.options.bn=scratch
run_plan
finish_pages fashion_mnist
