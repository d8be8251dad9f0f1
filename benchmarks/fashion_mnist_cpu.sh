#!/usr/bin/env bash
# The Fashion-MNIST CPU runs of docs/results/fashion_mnist.md (d2l article recipes, configs/fashion_mnist/).
#   bash benchmarks/fashion_mnist_cpu.sh full  [FASHION_MNIST_ROOT]  # LeNet, LeNet-BN (Paddle's and the
#                                                                    # scratch BatchNorm), 10 epochs at 28 px
#   bash benchmarks/fashion_mnist_cpu.sh short [FASHION_MNIST_ROOT]  # the larger nets: 2000 training / 500 test
#                                                                    # images, reduced input size, 2 epochs
#   bash benchmarks/fashion_mnist_cpu.sh plot                        # docs/results/fashion_mnist_curves.png
# It publishes no record: benchmarks/fashion_mnist_d2l.sh trains the three full runs again and every other net
# for 10 epochs at a CPU size, and publishes every record (docs/results/runs/fashion_mnist/).
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
    run lenet_bn_scratch lenet_bn -o Arch.options.bn=scratch  # the article's own BatchNorm
    ;;
  short)
    # input sizes: the smallest the nets take with a few pixels to spare (AlexNet >= 65, NiN >= 67 px)
    short alexnet alexnet 96 -o Arch.options.input_size=96 & short vgg11_small vgg11_small 64 -o Arch.options.input_size=64 & wait
    short nin nin 96 & short googlenet googlenet 64 & wait
    short resnet18 resnet18 64 & short densenet densenet 64 & wait
    # a plain (BN-free) net needs more than 32 SGD steps to leave the ln(10) plateau: VGG-11/4 at 32 px on 10,000
    # images for 3 epochs (237 steps)
    short vgg11_small_10k vgg11_small 32 -o Arch.options.input_size=32 -o Data.limit_train=10000 -o Global.epochs=3
    ;;
  plot)
    # accuracy curves of the two full runs from their metrics.jsonl. Only accuracies: the loss in metrics.jsonl
    # is paddle.Model's last-batch loss (for eval, the last 16 test images), not an epoch mean.
    python - "$OUT" docs/results/fashion_mnist_curves.png <<'PY'
import json, os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
out, png = sys.argv[1], sys.argv[2]
runs = {"LeNet": "lenet", "LeNet-BN": "lenet_bn", "LeNet-BN, scratch BN": "lenet_bn_scratch"}
article = {"LeNet-BN": 0.830}  # the article's test accuracy after 10 epochs
fig, ax = plt.subplots(figsize=(7, 4.5))
for (label, name), color in zip(runs.items(), ["tab:blue", "tab:orange", "tab:green"]):
    if not os.path.isfile(os.path.join(out, name, "metrics.jsonl")):
        continue
    with open(os.path.join(out, name, "metrics.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    ep = [r["epoch"] for r in recs]
    if "scratch" in label:  # lies on top of the LeNet-BN curve: test accuracy only, thin, with crosses
        ax.plot(ep, [r["eval_top1"] for r in recs], ":x", lw=1.2, ms=7, color=color, label=f"{label} test")
        continue
    ax.plot(ep, [r["train_top1"] for r in recs], "--", color=color, label=f"{label} train (epoch mean)")
    ax.plot(ep, [r["eval_top1"] for r in recs], "-o", ms=4, color=color, label=f"{label} test (10,000 images)")
    if label in article:
        ax.plot([10], [article[label]], "*", ms=12, color=color, mec="black",
                label=f"{label} test, article ({article[label]:.3f})")
ax.set_xlabel("epoch"); ax.set_ylabel("top-1 accuracy"); ax.set_xticks(range(1, 11))
ax.set_ylim(0.0, 1.0); ax.grid(alpha=0.3); ax.legend(fontsize=8, loc="lower right")
ax.set_title("Fashion-MNIST, d2l recipes (SGD, batch 256, 28 px), Paddle on CPU", fontsize=10)
fig.tight_layout()
os.makedirs(os.path.dirname(png), exist_ok=True)
fig.savefig(png, dpi=110)
print("wrote", png)
PY
    ;;
  *)
    echo "usage: $0 full|short|plot [FASHION_MNIST_ROOT]" >&2; exit 2 ;;
esac
