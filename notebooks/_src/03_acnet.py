# %% [markdown]
# # ACNet 非对称卷积块 · Asymmetric convolution blocks: train three kernels, deploy one
#
# Ding, Guo, Ding and Han, *ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric
# Convolution Blocks*, ICCV 2019 (arXiv 1908.03930). The source article explains the block, its batch-norm and
# branch fusion, and the check that the fused network computes the same thing. This notebook does that with
# `paddle_tricks`. It looks inside one block, turns every 3×3 convolution of a small CNN into an ACBlock by
# model surgery, trains it next to the plain CNN, fuses it, and compares outputs, parameters and speed.

# %%
# Setup: the package of this repository, the smoke switch, plotting defaults.
import pathlib, sys, tempfile, time

# This notebook lives in <repository>/notebooks: put the repository first on the import path, so that the
# package next to the notebook is the one used (without a checkout, an installed paddle_tricks is used).
HERE = pathlib.Path.cwd().resolve()
ROOT = next((p for p in (HERE, *HERE.parents) if (p / "paddle_tricks" / "__init__.py").is_file()), HERE)
sys.path.insert(0, str(ROOT))
from paddle_tricks.utils.notebook import start_notebook

SMOKE = start_notebook(ROOT)   # True with PADDLE_TRICKS_SMOKE=1: tiny sizes and a few batches

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import paddle
import paddle.nn as nn
from IPython.display import display

import copy

from paddle_tricks.config import validate
from paddle_tricks.data import build_datasets
from paddle_tricks.deploy import fuse_bn_tensor, reparameterize
from paddle_tricks.engine.checkpoint import load_weights
from paddle_tricks.engine.run_files import BEST, run_file
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.layers import ACBlock
from paddle_tricks.models import build_network
from paddle_tricks.utils.bn import randomise_bn
from paddle_tricks.utils.complexity import count_madds, count_params
from paddle_tricks.utils.notebook import run_history

# %% [markdown]
# ## 1. 思路 · The idea
#
# An ACBlock replaces a k×k convolution (with its BN) by three branches trained together: the k×k kernel, a
# horizontal 1×k kernel and a vertical k×1 kernel, each followed by its own batch norm, and their outputs are
# summed. The block adds no hyperparameters and drops into any architecture. Once training is over, two facts
# make it free at inference:
#
# 1. **BN folding.** In evaluation mode a batch norm is an affine map per channel, so conv → BN equals one conv
#    with the kernel scaled by γ/σ and a bias β − μ·γ/σ.
# 2. **Additivity.** Convolutions whose sliding windows are aligned can be added kernel-wise: the 1×k kernel is
#    a k×k kernel that is zero outside its centre row, and the k×1 kernel likewise for the centre column.
#
# So the three branches collapse into one k×k convolution. Its centre cross (the *skeleton*) received extra
# learned weight, which the paper credits for the accuracy gain.
#
# ## 2. 一个块的融合 · Fusing one block by hand
#
# Here the fusion is done step by step with `fuse_bn_tensor`, then compared with the block's own
# `get_equivalent_kernel_bias()` and with its output after `reparameterize`.

# %%
paddle.seed(0)
block = randomise_bn(ACBlock(4, 4, kernel_size=3))   # non-trivial BN statistics, as after training
block.eval()

k_sq, b_sq = fuse_bn_tensor(block.square_conv, block.square_bn)      # (4, 4, 3, 3)
k_hor, b_hor = fuse_bn_tensor(block.hor_conv, block.hor_bn)          # (4, 4, 1, 3)
k_ver, b_ver = fuse_bn_tensor(block.ver_conv, block.ver_bn)          # (4, 4, 3, 1)
k_hor_3x3 = np.zeros(k_sq.shape, dtype="float32")
k_hor_3x3[:, :, 1:2, :] = k_hor.numpy()                               # centre row
k_ver_3x3 = np.zeros(k_sq.shape, dtype="float32")
k_ver_3x3[:, :, :, 1:2] = k_ver.numpy()                               # centre column
by_hand = k_sq.numpy() + k_hor_3x3 + k_ver_3x3

weight, bias = block.get_equivalent_kernel_bias()
print(f"kernel by hand vs get_equivalent_kernel_bias: max |difference| = "
      f"{np.abs(by_hand - weight.numpy()).max():.1e}")
print(f"bias: max |difference| = {float((b_sq + b_hor + b_ver - bias).abs().max()):.1e}")

fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
panels = [(k_sq.numpy(), "3×3 branch, BN folded"), (k_hor_3x3, "1×3 branch, placed"),
          (k_ver_3x3, "3×1 branch, placed"), (by_hand, "fused kernel")]
limit = max(np.abs(p[0][0, 0]).max() for p in panels)
for ax, (kernel, name) in zip(axes, panels):
    ax.imshow(kernel[0, 0], cmap="coolwarm", vmin=-limit, vmax=limit)
    for (i, j), v in np.ndenumerate(kernel[0, 0]):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title(name, fontsize=9)
    ax.axis("off")
plt.suptitle("Output channel 0, input channel 0")
plt.tight_layout()
plt.show()

x = paddle.randn([2, 4, 9, 9])
before = block(x)
reparameterize(block)
print(f"after reparameterize the block holds {type(block.fused_conv).__name__} "
      f"{list(block.fused_conv.weight.shape)}; max |output change| = {float((block(x) - before).abs().max()):.1e}")

# %% [markdown]
# ## 3. 小网络 · A small CNN and its ACNet twin
#
# The baseline is VGG-11 with batch norm (Simonyan and Zisserman, 2015), narrowed for 32 px images; the ACNet
# paper's CIFAR-10 experiments include VGG too. The zoo's `vgg11_small` with `batch_norm=True` is a stack of
# eight 3×3 `ConvBNAct` units (conv → BN → ReLU, the building block of every backbone in the package), with a
# 2×2 max-pool after each block. `apply_tricks(net, {"conv3x3": "acblock"})` swaps every 3×3 conv of such units
# for an ACBlock. The unit's own BN becomes an identity, because each branch has its own. The same line works
# for any network of the zoo, and a config does it with `Arch.tricks: {conv3x3: acblock}`, which is how both nets
# are built here: from two configs of the suite that differ only in that key.

# %%
SIZE = 32                                   # image side
RATIO = 8 if SMOKE else 4                   # VGG-11's channels (64 ... 512) divided by RATIO
PER_CLASS, EVAL_PER_CLASS, EPOCHS, BATCH = (24, 8, 3, 32) if SMOKE else (200, 50, 15, 64)
NORMALISE = [{"Transpose": {}}, {"Normalize": {"mean": [127.5] * 3, "std": [63.75] * 3, "data_format": "CHW"}}]


def acnet_config(name, tricks):
    """A config of the suite, written as a dict: the same data, net and recipe for both runs but ``tricks``."""
    return validate({
        "Global": {"output_dir": tempfile.mkdtemp(prefix=f"acnet_{name}_"), "epochs": EPOCHS, "seed": 0,
                   "verbose": 0},
        "Arch": {"name": "vgg11_small", "num_classes": 16, "tricks": tricks,
                 "options": {"in_channels": 3, "input_size": SIZE, "ratio": RATIO, "batch_norm": True,
                             "hidden": 128, "dropout": 0.0, "init": "default"}},
        "Data": {"dataset": "quickstart", "batch_size": BATCH,
                 "options": {"num_per_class": PER_CLASS, "eval_per_class": EVAL_PER_CLASS, "image_size": SIZE},
                 "train_transforms": [{"RandomHorizontalFlip": {}}] + NORMALISE, "eval_transforms": NORMALISE},
        "Optimizer": {"name": "Momentum", "momentum": 0.9, "weight_decay": 1e-4},
        "LR": {"name": "Cosine", "base_lr": 0.05},
        "VisualDL": {"enable": False},
    })


configs = {"baseline": acnet_config("baseline", {}),
           "ACNet": acnet_config("acnet", {"conv3x3": "acblock", "input_size": SIZE})}
fresh = {name: build_network(cfg) for name, cfg in configs.items()}
print(fresh["ACNet"][1])
display(pd.DataFrame([{"net": "baseline" if name == "baseline" else "ACNet (training form)",
                       "params": count_params(net), "MAdds": count_madds(net, (1, 3, SIZE, SIZE))}
                      for name, net in fresh.items()]).set_index("net"))

# %% [markdown]
# ## 4. 训练 · Training both on the same data
#
# The data are the package's generated shapes (16 classes of coloured discs, squares, triangles and crosses on
# noisy backgrounds, no download). Both configs use the same seed, the same batches and the same recipe:
# momentum SGD, cosine learning rate, weight decay 1e-4, random horizontal flips. The suite's `Trainer` runs
# each config, exactly as `python tools/train.py` would, and the curves come from each run's `metrics.jsonl`.
#
# **Short demonstration, not a result:** a few epochs on a small generated set show the mechanics. They say
# nothing about ACNet's accuracy gain, which the paper measures on CIFAR and ImageNet.

# %%
summaries = {name: Trainer(cfg).fit() for name, cfg in configs.items()}
histories = {name: run_history(s["output_dir"]) for name, s in summaries.items()}
train_set, eval_set = build_datasets(configs["baseline"]["Data"])
print(f"{len(train_set)} training and {len(eval_set)} evaluation images of {SIZE}×{SIZE} px, "
      f"{EPOCHS} epochs of batch {BATCH}")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for name, h in histories.items():
    axes[0].plot(h.index, h["train_loss"], "o-", label=name)
    axes[1].plot(h.index, h["eval_top1"], "o-", label=name)
axes[0].set_title("training loss")
axes[1].set_title("evaluation top-1")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend()
plt.tight_layout()
plt.show()
display(pd.DataFrame({name: {"final eval top-1": h["eval_top1"].iloc[-1], "best eval top-1": h["eval_top1"].max(),
                             "seconds per epoch": h["time"].mean()} for name, h in histories.items()}).T)

# %% [markdown]
# ## 5. 融合与对比 · Fuse, then compare outputs, size and speed
#
# Each net is rebuilt from its config and given the weights of its best epoch (`best.safetensors` in its run folder).
# `reparameterize` asks every ACBlock to fuse itself and folds the BN of every remaining `ConvBNAct` into its
# convolution. It is applied to a copy, so the trained form stays available for the comparison. The baseline is
# folded too, because a deployed plain net also has no separate BN. After fusion, ACNet is a plain CNN of exactly
# the baseline's shape. The machine that produced the stored timings is shared with other jobs, so small
# differences between the timings are noise. The fused ACNet should time like the folded baseline, and the
# training form should be clearly slower.

# %%
eval_loader = paddle.io.DataLoader(eval_set, batch_size=128)


@paddle.no_grad()
def evaluate(net):
    """Top-1 accuracy and the logits of the whole evaluation set (eval mode)."""
    net.eval()
    logits = paddle.concat([net(x) for x, _ in eval_loader])
    labels = paddle.concat([y.reshape([-1]) for _, y in eval_loader])
    return float((logits.argmax(1) == labels).astype("float32").mean()), logits


def trained(name):
    """The net of run ``name``, rebuilt from its config, with the weights of its best epoch."""
    net = build_network(configs[name])
    load_weights(net, run_file(summaries[name]["output_dir"], BEST))
    return net


baseline, acnet = trained("baseline"), trained("ACNet")
for name, net in (("baseline", baseline), ("ACNet", acnet)):
    best = summaries[name]["best"]
    print(f"{name}: loaded weights of epoch {best['epoch']}, top-1 {evaluate(net)[0]:.4f} "
          f"(the run recorded {best['value']:.4f})")
acnet_deployed = reparameterize(copy.deepcopy(acnet))
baseline_deployed = reparameterize(copy.deepcopy(baseline))
acc_trained, logits_trained = evaluate(acnet)
acc_deployed, logits_deployed = evaluate(acnet_deployed)
print(f"ACNet on the {len(eval_set)} evaluation images: max |logit change| after fusion = "
      f"{float((logits_deployed - logits_trained).abs().max()):.1e} "
      f"(logits of size {float(logits_trained.abs().mean()):.2f}); top-1 {acc_trained:.4f} -> {acc_deployed:.4f}; "
      f"same predictions: {bool((logits_deployed.argmax(1) == logits_trained.argmax(1)).all())}")

BENCH = 32 if SMOKE else 256
repeats = 3 if SMOKE else 20
x = paddle.randn([BENCH, 3, SIZE, SIZE])
forms = {"baseline (conv + BN)": baseline, "baseline, BN folded": baseline_deployed,
         "ACNet, training form": acnet, "ACNet, fused": acnet_deployed}
rows = []
for name, net in forms.items():
    net.eval()
    with paddle.no_grad():
        net(x)                                               # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            net(x)
    rows.append({"form": name, "params": count_params(net), "MAdds / image": count_madds(net, (1, 3, SIZE, SIZE)),
                 "eval top-1": evaluate(net)[0],
                 "ms per batch": 1000 * (time.perf_counter() - start) / repeats})
speed = pd.DataFrame(rows).set_index("form")
display(speed)
plt.figure(figsize=(7, 2.8))
plt.barh(speed.index, speed["ms per batch"], color=["tab:blue", "tab:cyan", "tab:orange", "tab:green"])
plt.gca().invert_yaxis()
plt.xlabel(f"CPU time of one forward pass, batch {BENCH} at {SIZE} px (ms)")
plt.show()


# %% [markdown]
# ## 6. 骨架 · The kernel skeleton
#
# Average |weight| at each of the nine kernel positions over all 3×3 layers, each layer normalised to its
# largest position. The paper reports that the centre cross of the fused ACNet kernels carries more weight than
# in a normally trained net. Part of this holds by construction (two extra branches add to the cross), and
# training with the extra branches strengthens it further.

# %%
def skeleton(net):
    maps = []
    for layer in net.sublayers():
        if isinstance(layer, nn.Conv2D) and layer.weight.shape[2:] == [3, 3]:
            m = layer.weight.abs().mean(axis=[0, 1]).numpy()
            maps.append(m / m.max())
    return np.mean(maps, axis=0)


fig, axes = plt.subplots(1, 2, figsize=(6.5, 3))
for ax, (name, net) in zip(axes, (("baseline, BN folded", baseline_deployed), ("ACNet, fused", acnet_deployed))):
    m = skeleton(net)
    ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
    ax.grid(False)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 0.6 else "k")
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7. 在任意网络上 · On any network
#
# The same two steps work for every model of the zoo and from the command line:
#
# ```yaml
# # a config delta: every 3×3 ConvBNAct of the backbone becomes an ACBlock
# Arch:
#   tricks: {conv3x3: acblock}          # or {type: acblock, gamma_init: 0.333} for ACNet's CIFAR setting
# ```
#
# ```bash
# python tools/train.py -c my_config.yaml
# python tools/export.py -c my_config.yaml    # fuses (reparameterize), saves with paddle.jit and checks the outputs
# ```
