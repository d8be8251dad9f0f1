# %% [markdown]
# # 经典网络 · Classic backbones: ResNet, DenseNet, SENet, SKNet, ResNeSt
#
# The source article walks through five families of image classifiers that many later tricks are tested on,
# with PyTorch code. Here each one comes from the model zoo of `paddle_tricks` (`create_model(name)`). For each
# family we build the network, print the output shape of every stage, look at the block that defines it, and
# finish with one table of parameters and multiply-adds next to the papers' figures.

# %%
# Setup: the package of this repository, the smoke switch, plotting defaults.
import pathlib, sys, time

# This notebook lives in <repository>/notebooks: put the repository first on the import path, so that the
# package next to the notebook is the one used (without a checkout, an installed paddle_tricks is used).
HERE = pathlib.Path.cwd().resolve()
ROOT = next((p for p in (HERE, *HERE.parents) if (p / "paddle_tricks" / "__init__.py").is_file()), HERE)
sys.path.insert(0, str(ROOT))
from paddle_tricks.utils.notebook import start_notebook

SMOKE = start_notebook(ROOT)   # True with PADDLE_TRICKS_SMOKE=1: tiny sizes and a few batches

import matplotlib.pyplot as plt
import pandas as pd
import paddle
from IPython.display import display

from paddle_tricks import layers as L
from paddle_tricks.models import create_model, list_models
from paddle_tricks.utils.complexity import count_madds, count_params
from paddle_tricks.utils.summary import layer_shapes, print_layer_shapes

SIZE = 64 if SMOKE else 224           # input side for the shape printouts (ImageNet nets)
print("registered models:", ", ".join(list_models()))

# %% [markdown]
# ## 1. ResNet · 残差网络
#
# He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016 (arXiv 1512.03385). A block learns a
# residual F(x) that is added to its input, y = F(x) + x, so a deep stack can always fall back to the identity
# and gradients reach the early layers through the shortcuts. ResNet-18/34 use a *basic* block (two 3×3
# convolutions). ResNet-50 and deeper use a *bottleneck* (1×1 reduce, 3×3, 1×1 expand by 4), which is cheaper
# at high width. A projection shortcut (1×1, stride 2) is used wherever the shape changes.

# %%
for name in ("resnet18", "resnet50"):
    print(f"--- {name}, input 1×3×{SIZE}×{SIZE}")
    print_layer_shapes(create_model(name), (1, 3, SIZE, SIZE))

# %%
rows = []
for name in ("resnet18", "resnet50"):
    block = create_model(name).layer1[0]
    rows.append({"model": name, "first block": type(block).__name__,
                 "units": " → ".join(k for k, _ in block.named_children() if k.startswith("conv")),
                 "params": count_params(block), "MAdds at 56×56": count_madds(block, (1, 64, 56, 56))})
display(pd.DataFrame(rows).set_index("model"))

# %% [markdown]
# At the same input the two first blocks cost about the same. This is the point of the bottleneck: it does the
# 3×3 work at 64 channels and still hands 256 channels to the next block, where the basic block hands on 64.
# (The bottleneck's count includes its projection shortcut from 64 to 256 channels.)

# %% [markdown]
# ## 2. DenseNet · 稠密连接
#
# Huang et al., *Densely Connected Convolutional Networks*, CVPR 2017 (arXiv 1608.06993). Inside a dense block,
# every layer receives the concatenation of all earlier feature maps and adds `growth_rate` new channels, so
# features are reused instead of relearned. Each layer is BN → ReLU → 1×1 conv → BN → ReLU → 3×3 conv (the
# "B" variant), and transition layers between blocks halve the channels ("C", compression 0.5) and the
# resolution. The ImageNet DenseNet-121 and the CIFAR DenseNet-BC-100 (k = 12) both come from the zoo. The plot
# shows the channel count growing by k after every layer of the first CIFAR block.

# %%
print(f"--- densenet121, input 1×3×{SIZE}×{SIZE}")
print_layer_shapes(create_model("densenet121"), (1, 3, SIZE, SIZE))
cifar = create_model("densenet_bc_100", num_classes=10)
print("\n--- densenet_bc_100 (CIFAR), input 1×3×32×32")
print_layer_shapes(cifar, (1, 3, 32, 32))

rows = layer_shapes(cifar, (1, 3, 32, 32), depth=3)
block1 = [shape[1] for name, _, shape, _ in rows if name.startswith("features.0.")]
plt.figure(figsize=(6, 3))
plt.plot(range(1, len(block1) + 1), block1, "o-", ms=3)
plt.xlabel("dense layer in block 1")
plt.ylabel("channels after the layer")
plt.title(f"DenseNet-BC-100: +{block1[1] - block1[0]} channels per layer")
plt.show()

# %% [markdown]
# ## 3. SENet · 通道注意力
#
# Hu et al., *Squeeze-and-Excitation Networks*, CVPR 2018 (arXiv 1709.01507). An SE module squeezes each channel
# to one number by global average pooling, passes the vector through FC (C → C/16) → ReLU → FC (C/16 → C) →
# sigmoid, and rescales the channels with the result. It sits on the residual branch, after the last BN and
# before the addition. The source article's SENet is a CIFAR network of pre-activation basic blocks
# (`senet18`). The zoo also has SE-ResNet-50: the same recipe inside the bottleneck, which adds about 10% of
# parameters for well under 1% of the multiply-adds.

# %%
print("--- senet18 (CIFAR), input 1×3×32×32")
net = create_model("senet18", num_classes=10)
print_layer_shapes(net, (1, 3, 32, 32))
print("\nfirst block:", net.layer1[0])

rows = []
for name in ("resnet50", "se_resnet50"):
    m = create_model(name)
    rows.append({"model": name, "SE modules": sum(isinstance(s, L.SEModule) for s in m.sublayers()),
                 "params (M)": count_params(m) / 1e6, "MAdds at 224 (M)": count_madds(m, (1, 3, 224, 224)) / 1e6})
table = pd.DataFrame(rows).set_index("model")
display(table)
extra = table.loc["se_resnet50"] / table.loc["resnet50"] - 1
print(f"SE adds {extra['params (M)']:.1%} parameters and {extra['MAdds at 224 (M)']:.2%} multiply-adds")

# %% [markdown]
# ## 4. SKNet · 选择性卷积核
#
# Li et al., *Selective Kernel Networks*, CVPR 2019 (arXiv 1903.06586). The 3×3 convolution of a ResNeXt
# bottleneck becomes an SK unit. Two grouped branches with different receptive fields (a 3×3 and a 3×3 with
# dilation 2, which sees as far as a 5×5) are summed and pooled. A small FC layer then predicts, for every
# channel, a softmax over the branches, and the output is the weighted sum. So each channel picks its
# receptive field per image. Below: the shapes, then the average weight of the dilated branch in each of the
# 16 SK units for one image. With untrained weights it stays near 0.5; a trained net moves it by stage.

# %%
net = create_model("sknet50")
print(f"--- sknet50, input 1×3×{SIZE}×{SIZE}")
print_layer_shapes(net, (1, 3, SIZE, SIZE))

units = [m for m in net.sublayers() if isinstance(m, L.SKConv)]
for m in units:
    m.record_attention = True
net.eval()
net(paddle.rand([1, 3, SIZE, SIZE]))
dilated = [float(m.last_attention[0, 1].mean()) for m in units]       # (batch, branch, channel)
plt.figure(figsize=(7, 3))
plt.bar(range(1, len(units) + 1), dilated, color="tab:purple")
plt.axhline(0.5, color="k", lw=1, ls=":")
plt.ylim(0, 1)
plt.xlabel("SK unit (stages 1 → 4)")
plt.ylabel("mean weight of the dilated branch")
plt.title("Selective-kernel attention of an untrained SKNet-50")
plt.show()

# %% [markdown]
# ## 5. ResNeSt · 分组注意力
#
# Zhang et al., *ResNeSt: Split-Attention Networks*, 2020 (arXiv 2004.08955). The 3×3 convolution of the
# bottleneck becomes a split-attention block. A grouped conv produces `radix` splits per cardinal group, the
# splits are summed and pooled, and an rSoftmax across the splits weights them per channel. The split-attention
# block thus generalises SK (several splits) and SE (radix 1 gives a sigmoid gate). ResNeSt-50 also uses a deep
# stem (three 3×3 convolutions instead of one 7×7) and average-pool downsampling in its shortcuts and blocks.

# %%
net = create_model("resnest50")
print(f"--- resnest50, input 1×3×{SIZE}×{SIZE}")
print_layer_shapes(net, (1, 3, SIZE, SIZE))
print("\ndeep stem:")
print_layer_shapes(net.stem, (1, 3, SIZE, SIZE))
unit = net.layer1[0].conv2
print(f"\nsplit attention of the first block: radix {unit.radix}, cardinality {unit.cardinality}, "
      f"weights of shape {list(unit.attention(paddle.rand([2, 64, 16, 16])).shape)} (batch, radix, channels)")

# %% [markdown]
# ## 6. 对比 · The families side by side
#
# Parameters and multiply-adds (MAdds, one per weight use in a conv or FC layer) of each network, with the
# figures the papers report. Latency is one forward pass of a single image on this machine's CPU, measured at
# the printout size. It is only a rough guide, because the machine is shared.

# %%
NETS = [  # name, family, input side, options, published figures (params, MAdds)
    ("resnet18", "ResNet", 224, {}, "11.7 M, 1.8 G"),
    ("resnet50", "ResNet", 224, {}, "25.6 M, 3.8-4.1 G"),
    ("resnext50_32x4d", "ResNeXt", 224, {}, "25.0 M, 4.24 G"),
    ("densenet121", "DenseNet", 224, {}, "8.0 M"),
    ("densenet_bc_100", "DenseNet (CIFAR)", 32, {"num_classes": 10}, "0.8 M"),
    ("senet18", "SENet (CIFAR)", 32, {"num_classes": 10}, "-"),
    ("se_resnet50", "SENet", 224, {}, "28.1 M, 3.87 G"),
    ("sknet50", "SKNet", 224, {}, "27.5 M, 4.47 G"),
    ("resnest50", "ResNeSt", 224, {}, "27.5 M, 5.39 G"),
]
repeats = 1 if SMOKE else 5
rows = []
for name, family, side, options, published in NETS:
    net = create_model(name, **options)
    net.eval()
    timed = min(side, SIZE)
    x = paddle.rand([1, 3, timed, timed])
    with paddle.no_grad():
        net(x)                                   # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            net(x)
    rows.append({"model": name, "family": family, "input": f"{side}×{side}",
                 "params (M)": count_params(net) / 1e6,
                 "MAdds (G)": count_madds(net, (1, 3, side, side)) / 1e9,
                 "published": published,
                 "CPU ms / image": 1000 * (time.perf_counter() - start) / repeats,
                 "timed at": f"{timed}×{timed}"})
summary = pd.DataFrame(rows).set_index("model")
display(summary)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, column, colour in zip(axes, ("params (M)", "MAdds (G)"), ("tab:blue", "tab:orange")):
    ax.barh(summary.index, summary[column], color=colour)
    ax.set_xlabel(column)
    ax.invert_yaxis()
axes[0].set_title("parameters")
axes[1].set_title("multiply-adds per image")
plt.tight_layout()
plt.show()

# %% [markdown]
# The zoo's ResNet-50 counts 4.09 G MAdds where He et al. print 3.8 G. The zoo follows the torchvision layout
# ("ResNet v1.5"), which puts a bottleneck's stride on its 3×3 convolution instead of the first 1×1. That 3×3
# then runs at the higher resolution, and the parameter count does not change.
# Every model of the zoo accepts the tricks of `01_cnn_tricks_handbook.ipynb` through
# `paddle_tricks.tricks.apply_tricks` or a config's `Arch.tricks`.
