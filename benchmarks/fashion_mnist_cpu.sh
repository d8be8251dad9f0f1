#!/usr/bin/env bash
# The Fashion-MNIST CPU runs of docs/results/fashion_mnist.md (d2l article recipes, configs/fashion_mnist/).
#   bash benchmarks/fashion_mnist_cpu.sh full  [FASHION_MNIST_ROOT]  # LeNet and LeNet-BN, 10 epochs at 28 px
#   bash benchmarks/fashion_mnist_cpu.sh short [FASHION_MNIST_ROOT]  # the larger nets: 2000 training / 500 test
#                                                                    # images, reduced input size, 2 epochs
# (default root ../shared/data/fashion-mnist). One OpenMP thread per run, two runs at a time (2-core machine
# shared with other jobs). Logs, metrics.jsonl and walltime.txt go to output/fashion_mnist_cpu/.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-full}
ROOT=${2:-../shared/data/fashion-mnist}
OUT=output/fashion_mnist_cpu
mkdir -p "$OUT"

# run NAME CONFIG [-o overrides...]: train, log, record the wall time
run() {
  local name=$1 cfg=$2; shift 2
  local start=$(date +%s)
  OMP_NUM_THREADS=1 python tools/train.py -c "configs/fashion_mnist/${cfg}.yaml" -o Data.root="$ROOT" \
    -o Global.output_dir="$OUT/$name" -o Global.verbose=2 -o Global.log_freq=50 "$@" > "$OUT/$name.log" 2>&1
  echo "$name wall_seconds=$(( $(date +%s) - start ))" >> "$OUT/walltime.txt"
}

# short NAME CONFIG SIZE [-o overrides...]: 2 epochs on 2000/500 images at SIZE x SIZE px, no loader workers
short() {
  local name=$1 cfg=$2 size=$3; shift 3
  local t="[{Resize: {size: [$size, $size]}}, Transpose, {Normalize: {mean: [0.0], std: [255.0], data_format: CHW}}]"
  run "${name}_short${size}" "$cfg" -o Global.epochs=2 -o Data.limit_train=2000 -o Data.limit_eval=500 \
    -o Data.num_workers=0 -o Global.log_freq=5 -o "Data.train_transforms=$t" -o "Data.eval_transforms=$t" "$@"
}

case "$MODE" in
  full)
    run lenet lenet & run lenet_bn lenet_bn & wait
    ;;
  short)
    # input sizes: the smallest the nets take with a few pixels to spare (AlexNet >= 65, NiN >= 67 px)
    short alexnet alexnet 96 -o Arch.options.input_size=96 & short vgg11_small vgg11_small 64 -o Arch.options.input_size=64 & wait
    short nin nin 96 & short googlenet googlenet 64 & wait
    short resnet18 resnet18 64 & short densenet densenet 64 & wait
    ;;
  *)
    echo "usage: $0 full|short [FASHION_MNIST_ROOT]" >&2; exit 2 ;;
esac
