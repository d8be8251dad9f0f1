# %% [markdown]
# # CNN Tricks 手册 · A handbook of CNN tricks on PaddlePaddle
#
# Each section below takes one trick, states its idea in a few sentences, names the paper, builds the layer from
# `paddle_tricks`, and runs a small experiment that shows the property the trick is built on: blurred
# downsampling that barely reacts to a one-pixel shift, an ACBlock that fuses into one convolution without
# changing its output, a DropBlock mask, the shape of a dynamic activation, a learning-rate schedule, and so on.
# The order follows the source handbook: convolutions, pooling, activations, architecture pieces, training.
# No layer is defined here; every one comes from the package, and each has unit tests in `tests/`.

# %%
# Setup: the package of this repository, the smoke switch, plotting defaults.
import pathlib, sys, tempfile

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

from paddle_tricks import layers as L
from paddle_tricks.layers import ConvBNAct
from paddle_tricks.models import create_model
from paddle_tricks.utils.complexity import count_madds, count_params

# %% [markdown]
# ## 0. The tricks at a glance · 总览
#
# One row per trick: the paper, and where the package keeps it. The last column imports each name, so the table
# fails loudly if something is missing.

# %%
import importlib

TRICKS = [
    # trick, paper, arXiv, package object
    ("SPConv", "Zhang et al., Split to Be Slim, IJCAI 2020", "2006.12085", "layers.SPConv"),
    ("PyConv", "Duta et al., Pyramidal Convolution, 2020", "2006.11538", "layers.PyConv"),
    ("Octave convolution", "Chen et al., Drop an Octave, ICCV 2019", "1904.05049", "layers.OctaveConv"),
    ("CoordConv", "Liu et al., NeurIPS 2018", "1807.03247", "layers.CoordConv"),
    ("Deformable conv v1 / v2", "Dai et al., ICCV 2017 / Zhu et al., CVPR 2019", "1703.06211 / 1811.11168",
     "layers.DeformableConv"),
    ("ACBlock (ACNet)", "Ding et al., ICCV 2019", "1908.03930", "layers.ACBlock"),
    ("BlurPool (anti-aliasing)", "Zhang, ICML 2019", "1904.11486", "layers.MaxBlurPool"),
    ("NAM attention", "Liu et al., NeurIPS 2021 workshop", "2111.12419", "layers.NAM"),
    ("Dynamic ReLU A/B/C", "Chen et al., ECCV 2020", "2003.10027", "layers.DyReLUB"),
    ("ACON-C / Meta-ACON-C", "Ma et al., CVPR 2021", "2009.04759", "layers.MetaAconC"),
    ("Spatial pyramid pooling", "He et al., ECCV 2014", "1406.4729", "layers.SpatialPyramidPooling"),
    ("R-Drop", "Liang et al., NeurIPS 2021", "2106.14448", "losses.RDropLoss"),
    ("DropBlock", "Ghiasi et al., NeurIPS 2018", "1810.12890", "layers.DropBlock"),
    ("CSP stage", "Wang et al., CVPR workshops 2020", "1911.11929", "layers.CSPStage"),
    ("Squeeze-and-excitation", "Hu et al., CVPR 2018", "1709.01507", "layers.SEModule"),
    ("Selective kernel", "Li et al., CVPR 2019", "1903.06586", "layers.SKConv"),
    ("Split attention", "Zhang et al., 2020", "2004.08955", "layers.SplitAttention"),
    ("Batch norm from scratch", "Ioffe and Szegedy, ICML 2015", "1502.03167", "layers.BatchNormScratch"),
    ("Mixed precision", "Micikevicius et al., ICLR 2018", "1710.03740", "engine.device.amp_configs"),
    ("Cosine schedule with warm-up", "Loshchilov and Hutter, ICLR 2017; Goyal et al., 2017",
     "1608.03983 / 1706.02677", "optim.lr.build_lr_scheduler"),
    ("Weight EMA", "Polyak and Juditsky, SIAM J. Control Optim. 1992", "-", "engine.ema.ModelEMA"),
    ("Any trick on any backbone", "(model surgery of this package)", "-", "tricks.apply_tricks"),
]


def resolve(dotted):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"paddle_tricks.{module}"), name)


overview = pd.DataFrame(
    [{"trick": t, "paper": p, "arXiv": a, "paddle_tricks": f"paddle_tricks.{o}",
      "found": "yes" if resolve(o) is not None else "no"} for t, p, a, o in TRICKS]).set_index("trick")
display(overview)

# %% [markdown]
# ## 1. 卷积 · Convolutions
#
# ### 1.1 SPConv: skip the redundant channels
#
# Many channels of a feature map look alike. SPConv splits the input channels with a ratio α: the
# *representative* part goes through a group-wise 3×3 plus a point-wise 1×1 convolution, the rest only through a
# cheap 1×1. The two results are blended per channel by a softmax over their global averages. Below: the cost
# next to a plain 3×3 convolution, and the blending weights, which sum to one for every channel.

# %%
C, S = 64, 32
plain = nn.Conv2D(C, C, 3, padding=1, bias_attr=False)
sp = L.SPConv(C, C, ratio=0.5)
display(pd.DataFrame([
    {"layer": "Conv2D 3×3", "params": count_params(plain), "MAdds": count_madds(plain, (1, C, S, S))},
    {"layer": "SPConv, α = 0.5", "params": count_params(sp), "MAdds": count_madds(sp, (1, C, S, S))},
]).set_index("layer"))

x = paddle.randn([4, C, S, S])
w = L.SPConv.fusion_weights(*sp.branches(x))            # (batch, channels, 2)
print("output shape:", sp(x).shape)
print(f"mean weight of the representative branch {float(w[:, :, 0].mean()):.3f}, "
      f"of the cheap branch {float(w[:, :, 1].mean()):.3f}; "
      f"largest |sum - 1| over channels: {float((w.sum(-1) - 1).abs().max()):.1e}")

# %% [markdown]
# ### 1.2 PyConv: a pyramid of kernels
#
# PyConv runs kernels of several sizes (3, 5, 7, 9) side by side on the same input and concatenates their
# outputs. Larger kernels use more groups, so the whole pyramid costs about as much as one 3×3 convolution while
# seeing a much wider context. The table lists the pyramid the package uses for each ResNet stage.

# %%
C, S = 64, 32
rows = [{"layer": "Conv2D 3×3", "kernels": "3", "groups": "1", "out channels": str(C),
         "params": count_params(nn.Conv2D(C, C, 3, padding=1, bias_attr=False)),
         "MAdds": count_madds(nn.Conv2D(C, C, 3, padding=1, bias_attr=False), (1, C, S, S))}]
for stage in (1, 2, 3, 4):
    py = L.PyConv.for_stage(C, C, stage)
    rows.append({"layer": f"PyConv, stage {stage}", "kernels": str(py.kernels), "groups": str(py.groups),
                 "out channels": str(py.level_channels), "params": count_params(py),
                 "MAdds": count_madds(py, (1, C, S, S))})
display(pd.DataFrame(rows).set_index("layer"))

# %% [markdown]
# ### 1.3 Octave convolution: store the smooth part at half resolution
#
# An octave convolution keeps a share α of the channels (the low-frequency part) at half the spatial
# resolution. Four paths (high→high, high→low, low→high, low→low) exchange information between the two groups,
# and the low-resolution paths cost a quarter. A network starts with a layer that splits one tensor into a
# (high, low) pair and ends with one that merges them again; the shapes show the pair along the way.

# %%
C, S, alpha = 32, 32, 0.5
first = L.OctaveConv(16, C, alpha_in=0.0, alpha_out=alpha)
middle = L.OctaveConv(C, C, alpha_in=alpha, alpha_out=alpha)
last = L.OctaveConv(C, C, alpha_in=alpha, alpha_out=0.0)

x = paddle.randn([1, 16, S, S])
h, l = first(x)
rows = [{"layer": "first (split)", "high": list(h.shape), "low": list(l.shape)}]
h, l = middle(h, l)
rows.append({"layer": "middle", "high": list(h.shape), "low": list(l.shape)})
h, l = last(h, l)
rows.append({"layer": "last (merge)", "high": list(h.shape), "low": "None" if l is None else list(l.shape)})
display(pd.DataFrame(rows).set_index("layer"))

octave = nn.Sequential(first, middle, last)
vanilla = nn.Sequential(*[nn.Conv2D(cin, C, 3, padding=1, bias_attr=False) for cin in (16, C, C)])
print(f"MAdds of the three layers: octave {count_madds(octave, (1, 16, S, S)):,} vs plain "
      f"{count_madds(vanilla, (1, 16, S, S)):,}")

# %% [markdown]
# ### 1.4 CoordConv: tell the filter where it is
#
# A convolution is translation-equivariant, so it cannot tell where in the image it is looking. CoordConv adds
# input channels holding the x and y coordinate (scaled to [-1, 1]) and optionally the distance from the
# centre, before an ordinary convolution. The three added channels:

# %%
add = L.AddCoords(with_r=True)
out = add(paddle.zeros([1, 1, 16, 16]))
print("input channels 1 -> output channels", out.shape[1], "(1 original + xx, yy, rr)")
fig, axes = plt.subplots(1, 3, figsize=(8, 2.8))
for ax, ch, name in zip(axes, (1, 2, 3), ("xx (along width)", "yy (along height)", "rr (distance)")):
    im = ax.imshow(out[0, ch].numpy(), cmap="viridis")
    ax.set_title(name)
    ax.axis("off")
    fig.colorbar(im, ax=ax, fraction=0.046)
plt.tight_layout()
plt.show()
conv = L.CoordConv(3, 8, 3, with_r=False)
print("CoordConv(3, 8) holds a conv with", conv.conv.weight.shape[1], "input channels")

# %% [markdown]
# ### 1.5 Deformable convolution (DCN v1 / v2)
#
# A deformable convolution predicts, at every output position, an offset for each of the k×k sampling points
# (v1) and a weight for it (v2, the modulation mask), so the receptive field follows the object. The offset
# predictor starts at zero: a fresh v1 layer is exactly an ordinary convolution. Setting every offset to one
# pixel to the right (through the predictor's bias) turns it into the same convolution applied to the image
# shifted one pixel to the left, which the second check confirms away from the border.

# %%
import paddle.nn.functional as F

dcn = L.DeformableConv(4, 6, 3)
x = paddle.randn([1, 4, 12, 12])
reference = F.conv2d(x, dcn.conv.weight, padding=1)
print(f"zero offsets: max |DCN - conv| = {float((dcn(x) - reference).abs().max()):.1e}")

bias = np.zeros(dcn.offset_conv.bias.shape, dtype="float32")
bias[1::2] = 1.0                       # offsets are (dy, dx) pairs: dx = +1 for every sampling point
dcn.offset_conv.bias.set_value(paddle.to_tensor(bias))
shifted = F.conv2d(paddle.roll(x, -1, axis=3), dcn.conv.weight, padding=1)
inner = (dcn(x) - shifted)[:, :, 1:-1, 1:-2]
print(f"offset dx = 1: max |DCN - conv(shifted input)| inside the border = {float(inner.abs().max()):.1e}")
dcn2 = L.DeformableConv(4, 6, 3, modulated=True)
print(f"v2 starts with mask 0.5: max |DCNv2 - conv/2| = "
      f"{float((dcn2(x) - F.conv2d(x, dcn2.conv.weight, padding=1) / 2).abs().max()):.1e}")

# %% [markdown]
# ### 1.6 ACBlock: train three kernels, deploy one
#
# ACNet trains a k×k, a 1×k and a k×1 convolution side by side, each with its own batch norm, and sums them.
# Since convolution is linear, after training each BN folds into its kernel and the two thin kernels add into
# the centre row and column of the square one: a single convolution with the same output. `03_acnet.ipynb`
# trains such a net; here the equivalence is checked on one block with random BN statistics.

# %%
from paddle_tricks.deploy import reparameterize
from paddle_tricks.utils.bn import randomise_bn

acb = randomise_bn(L.ACBlock(8, 8, 3))   # non-trivial BN statistics and affine parameters, as after training
acb.eval()
x = paddle.randn([2, 8, 16, 16])
before, params_before = acb(x), count_params(acb)
reparameterize(acb)
after = acb(x)
display(pd.DataFrame([
    {"form": "training (3 convs + 3 BNs)", "params": params_before},
    {"form": "deployed (one biased conv)", "params": count_params(acb)},
]).set_index("form"))
print(f"max |fused - unfused| = {float((after - before).abs().max()):.1e} "
      f"(outputs of size {float(before.abs().mean()):.2f} on average)")

# %% [markdown]
# ## 2. 池化与下采样 · Pooling and downsampling
#
# ### 2.1 BlurPool: downsample without aliasing
#
# A stride-2 max-pool or convolution keeps every second value, so a one-pixel shift of the input can change the
# output a lot: the net is not shift-invariant. Zhang (2019) low-pass filters before subsampling: max-pool with
# stride 1, then a small binomial blur with stride 2 (`MaxBlurPool`); strided convolutions become
# conv → blur (`ConvBlurPool`). Below, a small random conv net with three max-pools and the same net after
# `apply_tricks(..., {"downsample": "blurpool"})`. We shift the images (circularly) one pixel at a time and
# measure how much the globally pooled features move at each step. The blurred net moves several times less.

# %%
import copy
from paddle_tricks.data import ShapesDataset
from paddle_tricks.tricks import apply_tricks

S = 32 if SMOKE else 64
images = ShapesDataset("eval", num_per_class=4, eval_per_class=2 if SMOKE else 4, image_size=S)
x = paddle.to_tensor(np.stack([np.asarray(img, dtype="float32").transpose(2, 0, 1) / 255.0
                               for img, _ in (images[i] for i in range(len(images)))]))
paddle.seed(1)
plain = nn.Sequential(ConvBNAct(3, 16), nn.MaxPool2D(2, 2), ConvBNAct(16, 32), nn.MaxPool2D(2, 2),
                      ConvBNAct(32, 32), nn.MaxPool2D(2, 2))
blurred = apply_tricks(copy.deepcopy(plain), {"downsample": "blurpool", "input_size": S})
plain.eval(), blurred.eval()


def one_pixel_changes(model, offsets):
    """Relative change of the pooled features when the input moves one more pixel to the right."""
    feats = [model(paddle.roll(x, s, axis=3)).mean(axis=[2, 3]) for s in list(offsets) + [offsets[-1] + 1]]
    return [float(((b - a).norm(axis=1) / a.norm(axis=1)).mean()) for a, b in zip(feats, feats[1:])]


offsets = list(range(16))
curves = {"MaxPool (stride 2)": one_pixel_changes(plain, offsets),
          "MaxBlurPool": one_pixel_changes(blurred, offsets)}
plt.figure(figsize=(6.5, 3.2))
for name, values in curves.items():
    plt.plot(offsets, values, "o-", label=name)
plt.ylim(bottom=0)
plt.xlabel("input already shifted by s pixels")
plt.ylabel("feature change from s to s + 1")
plt.title(f"Shift stability: {len(x)} images of {S}×{S} px, random 3-layer net")
plt.legend()
plt.show()
stability = pd.DataFrame({name: {"mean change per 1-px shift": np.mean(v), "largest": np.max(v)}
                        for name, v in curves.items()}).T
display(stability)

# %% [markdown]
# ### 2.2 NAM: batch-norm scale factors as attention
#
# The source handbook files NAM next to pooling. NAM reuses the scale γ of a batch norm as a measure of how much
# each channel varies: it multiplies the normalised channel by |γ_c| / Σ|γ| and gates the input with a sigmoid
# of that. No extra weights are needed, and an L1 penalty on γ (`nam_sparsity_`) pushes unimportant channels
# further down. With a constant input, each channel's gate follows its γ:

# %%
nam = L.NAM(4)
gammas = paddle.to_tensor([2.0, 1.0, 0.5, 0.05])
nam.bn.weight.set_value(gammas)
nam.eval()
x = paddle.ones([1, 4, 2, 2])
gate = (nam(x) / x)[0, :, 0, 0]
display(pd.DataFrame({"γ": gammas.numpy(), "|γ| / Σ|γ|": (gammas.abs() / gammas.abs().sum()).numpy(),
                      "gate on a unit input": gate.numpy()}, index=pd.Index(range(4), name="channel")))

# %% [markdown]
# ## 3. 激活函数 · Activations
#
# ### 3.1 Dynamic ReLU: an activation that depends on the input
#
# DY-ReLU computes y = max_k(a_k·x + b_k), with K = 2 lines whose slopes and intercepts come from a small
# network on the globally pooled input. Variant A shares one function across all channels, B has one per
# channel, and C also scales it by a spatial attention. A fresh layer starts close to ReLU (slopes 1 and 0).
# Here the last FC layer's weights are scaled up to show the range the layer can cover. Lines: the function of
# each channel for two input samples. Dots: what the layer actually outputs, so they must lie on the lines.

# %%
paddle.seed(3)
dy = L.DyReLUB(channels=4, reduction=1)
dy.fc2.weight.set_value(dy.fc2.weight * 6)
feats = paddle.randn([2, 4, 6, 6]) * paddle.to_tensor([1.0, 2.0]).reshape([2, 1, 1, 1])
a, b = dy.coefficients(feats)           # (N, C, 1, 1, K) each
out = dy(feats)
xs = np.linspace(-6, 6, 200)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for n, ax in enumerate(axes):
    for c in range(4):
        an, bn = a[n, c, 0, 0].numpy(), b[n, c, 0, 0].numpy()
        line, = ax.plot(xs, np.max(xs[:, None] * an + bn, axis=1), label=f"channel {c}")
        ax.plot(feats[n, c].numpy().ravel(), out[n, c].numpy().ravel(), ".", ms=3, color=line.get_color())
    ax.plot(xs, np.maximum(xs, 0), "k:", lw=1, label="ReLU")
    ax.set_title(f"DY-ReLU-B, input sample {n}")
    ax.set_xlabel("x")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for cls in (L.DyReLUA, L.DyReLUB, L.DyReLUC):
    coef_a, _ = cls(4, reduction=1).coefficients(feats)
    print(f"{cls.__name__}: slopes of shape {list(coef_a.shape)} (batch, channels, 1, 1, K)")

# %% [markdown]
# ### 3.2 ACON: learning whether to activate
#
# ACON-C is (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x. The switching factor β moves it from a linear function
# (β = 0: the mean of p1·x and p2·x) to max(p1·x, p2·x) (β → ∞). With p1 = 1, p2 = 0 it is Swish. AconC
# learns p1, p2 and β per channel, and MetaAconC predicts β from the input. Curves of one AconC channel:

# %%
acon = L.AconC(1)
xs = paddle.linspace(-4, 4, 200).reshape([1, 1, 1, -1])
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, p2 in zip(axes, (0.0, 0.25)):
    acon.p1.set_value(paddle.full([1, 1, 1, 1], 1.0))
    acon.p2.set_value(paddle.full([1, 1, 1, 1], p2))
    for beta in (0.0, 0.5, 1.0, 2.0, 10.0):
        acon.beta.set_value(paddle.full([1, 1, 1, 1], beta))
        ax.plot(xs.numpy().ravel(), acon(xs).numpy().ravel(), label=f"β = {beta:g}")
    ax.set_title(f"ACON-C with p1 = 1, p2 = {p2:g}")
    ax.set_xlabel("x")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
meta = L.MetaAconC(16)
beta = meta.switch_factor(paddle.randn([3, 16, 8, 8]))
print(f"Meta-ACON-C: one β per sample and channel, shape {list(beta.shape)}, "
      f"values in [{float(beta.min()):.2f}, {float(beta.max()):.2f}]")

# %% [markdown]
# ## 4. 网络结构 · Architecture pieces
#
# ### 4.1 Spatial pyramid pooling: any input size, one feature length
#
# SPP max-pools the last feature map into fixed grids (4×4, 2×2 and 1×1 here) and concatenates them, so the
# classifier sees C·(16 + 4 + 1) features whatever the image size. The package pools each level adaptively,
# which always gives exactly n×n bins.

# %%
spp = L.SpatialPyramidPooling((4, 2, 1))
rows = [{"feature map": f"32 × {s} × {s}", "SPP output length": spp(paddle.randn([1, 32, s, s])).shape[1]}
        for s in (5, 13, 24, 57)]
display(pd.DataFrame(rows).set_index("feature map"))
net = create_model("spp_net", num_classes=10)
net.eval()
for s in (32, 48, 75):
    print(f"spp_net on a {s}×{s} image -> logits {net(paddle.randn([1, 3, s, s])).shape}")

# %% [markdown]
# ### 4.2 R-Drop: two dropout passes should agree
#
# R-Drop feeds every batch twice through a net with dropout and adds the symmetric KL divergence between the two
# predictions to the cross-entropy. In training mode the two passes use different dropout masks, so the KL term
# is positive and pulls them together; in evaluation mode it vanishes. In the trainer, `Loss.rdrop_alpha > 0`
# switches it on (each batch is then duplicated by the loader).

# %%
from paddle_tricks.losses import RDropLoss, kl_term

paddle.seed(0)
net = create_model("spp_net", num_classes=10)   # has dropout before its classifier
x, y = paddle.randn([8, 3, 32, 32]), paddle.randint(0, 10, [8])
criterion = RDropLoss(alpha=0.3)
rows = []
for mode in ("train", "eval"):
    getattr(net, mode)()
    logits = net(paddle.concat([x, x]))
    rows.append({"mode": mode, "symmetric KL": float(kl_term(logits[:8], logits[8:])),
                 "cross-entropy": float(F.cross_entropy(logits, paddle.concat([y, y]))),
                 "R-Drop loss (α = 0.3)": float(criterion(logits, y))})
display(pd.DataFrame(rows).set_index("mode"))

# %% [markdown]
# ### 4.3 DropBlock: drop regions, not pixels
#
# Neighbouring activations are correlated, so dropping single units hardly removes information. DropBlock drops
# whole block_size × block_size squares, sampled so that the expected share of kept units is `keep_prob`, and
# rescales the rest. The paper lowers `keep_prob` linearly from 1 to 0.9 during training (`linear_keep_prob`).
# Left: a dropout mask, right: a DropBlock mask with the same keep probability (black = dropped).

# %%
paddle.seed(2)
size, keep = 40, 0.85
block = L.DropBlock(block_size=5, keep_prob=keep)
mask = block.block_mask(paddle.rand([1, 1, size, size]))[0, 0].numpy()
dropout_mask = (np.random.rand(size, size) < keep).astype("float32")
fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
for ax, m, name in zip(axes, (dropout_mask, mask), ("dropout", "DropBlock, block 5")):
    ax.imshow(m, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{name}: {m.mean():.0%} kept")
    ax.axis("off")
plt.tight_layout()
plt.show()

block.train()
ones = paddle.ones([8, 16, size, size])
y = block(ones)
print(f"training: kept units are scaled to {float(y.max()):.3f}, mean activation {float(y.mean()):.3f}")
block.eval()
print("evaluation: identity ->", bool((block(ones) == ones).all()))
print("keep_prob schedule at 0, 25, 50, 100 % of training:",
      [round(L.linear_keep_prob(s, 100, final=0.9), 3) for s in (0, 25, 50, 100)])


# %% [markdown]
# ### 4.4 CSP stage: half the channels skip the blocks
#
# A cross-stage partial stage splits the feature map into two halves with two 1×1 convolutions. One half goes
# through the stage's blocks, the other bypasses them, and a final 1×1 merges both. The blocks work at half
# width, so compute and parameters drop while the gradient reaches the stage input along two paths.

# %%
def block(channels):   # any block that keeps channels and size
    return nn.Sequential(ConvBNAct(channels, channels, 1), ConvBNAct(channels, channels, 3))


csp = L.CSPStage(64, 128, num_blocks=3, block_fn=block)
plain = nn.Sequential(ConvBNAct(64, 128, 3, stride=2), *[block(128) for _ in range(3)])
x = paddle.randn([1, 64, 32, 32])
display(pd.DataFrame([
    {"stage": "plain: down-sampling conv + 3 blocks", "output": list(plain(x).shape),
     "params": count_params(plain), "MAdds": count_madds(plain, (1, 64, 32, 32))},
    {"stage": "CSP: the same blocks on half the channels", "output": list(csp(x).shape),
     "params": count_params(csp), "MAdds": count_madds(csp, (1, 64, 32, 32))},
]).set_index("stage"))

# %% [markdown]
# ### 4.5 Channel attention: SE, selective kernels, split attention
#
# The model zoo's attention blocks share one recipe: squeeze the feature map by global pooling, compute
# per-channel weights with two small FC layers, reweight. SE gates each channel with a sigmoid. SK runs two
# branches with different receptive fields (3×3 and dilated 3×3) and mixes them with a softmax across the
# branches. ResNeSt's split attention does the same across the radix splits of a grouped conv. Each heat map
# shows the weight given to the first branch or split, per sample and channel. The weights of the two branches
# add up to one.

# %%
paddle.seed(4)
x = paddle.rand([6, 32, 8, 8]) * paddle.rand([6, 32, 1, 1]) * 2 + 0.1   # samples differ per channel
se = L.SEModule(32, reduction=4)
se_gate = (se(x) / x)[:, :, 0, 0]
sk = L.SKConv(32, groups=8, min_dim=8)
split = L.SplitAttention(32, 32, radix=2, min_inter=8)
sk.eval(), split.eval()
sk_w, split_w = sk.attention(x), split.attention(x)           # (batch, branches, channels)
fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
for ax, m, name in zip(axes, (se_gate, sk_w[:, 0], split_w[:, 0]),
                       ("SE gate", "SK: weight of the 3×3 branch", "split attention: weight of split 1")):
    im = ax.imshow(m.numpy(), cmap="magma", vmin=0, vmax=1, aspect="auto")
    ax.grid(False)
    ax.set_title(name)
    ax.set_xlabel("channel")
    ax.set_ylabel("sample")
fig.colorbar(im, ax=axes, fraction=0.02)
plt.show()
print(f"SK weights sum to one over branches: max |sum - 1| = {float((sk_w.sum(1) - 1).abs().max()):.1e}")
print(f"split-attention weights: max |sum - 1| = {float((split_w.sum(1) - 1).abs().max()):.1e}")

# %% [markdown]
# ### 4.6 Batch norm from scratch
#
# `BatchNormScratch` writes batch normalisation out in plain tensor operations (mean and variance over the batch
# and the spatial axes in training, moving averages at evaluation). It should agree with Paddle's own layer:

# %%
ours, theirs = L.BatchNormScratch(8), nn.BatchNorm2D(8)
x = paddle.randn([16, 8, 5, 5]) * 3 + 2
rows = [{"check": "training output", "max |difference|": float((ours(x) - theirs(x)).abs().max())},
        {"check": "moving mean after one step", "max |difference|": float((ours._mean - theirs._mean).abs().max())}]
ours.eval(), theirs.eval()
rows.append({"check": "evaluation output", "max |difference|": float((ours(x) - theirs(x)).abs().max())})
display(pd.DataFrame(rows).set_index("check"))

# %% [markdown]
# ### 4.7 Any trick on any backbone
#
# All backbones of the zoo build their convolutions from `ConvBNAct` units and their activations from layers,
# so `apply_tricks` can switch tricks on by model surgery. It logs what it converted, and
# `reparameterize` folds what can be folded for deployment.

# %%
from paddle_tricks.deploy import reparameterize
from paddle_tricks.tricks import apply_tricks

S = 64
net = create_model("resnet18", num_classes=10)
n0 = count_params(net)
apply_tricks(net, {"downsample": "blurpool", "conv3x3": "acblock", "act": "acon_c", "attention": "se",
                   "input_size": S})
n1 = count_params(net)
x = paddle.randn([2, 3, S, S])
net.eval()
y = net(x)
reparameterize(net)
print(f"params: plain {n0:,} -> with tricks {n1:,} -> deployed {count_params(net):,}")
# an untrained net in eval mode produces large outputs, so compare relative to their size
print(f"max |deployed - trained form| / max |output| = {float((net(x) - y).abs().max() / y.abs().max()):.1e}")

# %% [markdown]
# ## 5. 训练技巧 · Training
#
# ### 5.1 Mixed precision
#
# Mixed-precision training computes in float16 where that is safe. It keeps float32 master weights and scales
# the loss so that small gradients do not underflow. The trainer turns it on with the `AMP` section of a config,
# and it only has an effect on a GPU: on a CPU the trainer says so once and trains in float32. The keys:

# %%
from paddle_tricks.config import SCHEMA

display(pd.DataFrame([{"key": f"AMP.{k}", "default": v.default, "meaning": v.help}
                      for k, v in SCHEMA["AMP"].items()]).set_index("key"))
print("this Paddle build has CUDA:", paddle.device.is_compiled_with_cuda())

# %% [markdown]
# ### 5.2 Cosine learning rate with warm-up
#
# A large learning rate at the very start can send a freshly initialised net (and its BN statistics) off
# course. Linear warm-up raises the rate over the first epochs, then cosine annealing lowers it smoothly to
# `eta_min` at the last iteration. The schedules below are the ones the trainer builds, stepped once per batch,
# for 100 epochs of 45 batches (Caltech-16 at batch 32).

# %%
from paddle_tricks.optim import build_lr_scheduler

defaults = {k: v.default for k, v in SCHEMA["LR"].items()}
epochs, steps = 100, 45
schedules = {
    "Cosine (the source recipe)": dict(name="Cosine", base_lr=0.01),
    "CosineWarmup, 5 warm-up epochs": dict(name="CosineWarmup", base_lr=0.01, warmup_epochs=5,
                                           warmup_start_lr=0.001),
    "Piecewise ×0.1 at 30, 60, 90": dict(name="Piecewise", base_lr=0.01, milestones=[30, 60, 90]),
}
plt.figure(figsize=(7, 3.4))
for name, cfg in schedules.items():
    sched = build_lr_scheduler({**defaults, **cfg}, steps, epochs)
    values = []
    for _ in range(epochs * steps):
        values.append(sched.last_lr)
        sched.step()
    plt.plot(np.arange(len(values)) / steps, values, label=name)
plt.xlabel("epoch")
plt.ylabel("learning rate")
plt.legend()
plt.show()

# %% [markdown]
# ### 5.3 Weight EMA
#
# An exponential moving average of the weights, e ← d·e + (1 − d)·w after every step, smooths out the noise of
# the last updates and usually evaluates a little better than the raw weights, especially while the learning
# rate is still high. The trainer keeps the EMA (BN statistics included) and evaluates both after every epoch.
# **Short demonstration, not a result:** the cell below trains on the generated quickstart shapes through the
# suite's `Trainer` and plots the run's `metrics.jsonl`. In smoke mode it trains LeNet-BN for a few epochs; the
# real setting is `configs/quickstart.yaml` unchanged (AsymmNet-S ×0.75, 10 epochs).

# %%
from paddle_tricks.config import load_config
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.utils.notebook import run_history

run_dir = tempfile.mkdtemp(prefix="ema_demo_")
overrides = [f"Global.output_dir={run_dir}", "Global.verbose=0", "VisualDL.enable=false"]
if SMOKE:
    overrides += ["Global.epochs=6", "Arch.name=lenet_bn", "Arch.options={in_channels: 3, input_size: 32}",
                  "Data.options={num_per_class: 40, eval_per_class: 10, image_size: 32}", "Data.batch_size=32",
                  "EMA.decay=0.9"]
cfg = load_config(str(ROOT / "configs" / "quickstart.yaml"), overrides)
summary = Trainer(cfg).fit()
history = run_history(summary["output_dir"])          # the run's metrics.jsonl, one row per epoch
plt.figure(figsize=(6, 3.2))
plt.plot(history.index, history["eval_top1"], "o-", label="raw weights")
plt.plot(history.index, history["ema_top1"], "s-", label=f"EMA (decay {cfg['EMA']['decay']})")
plt.xlabel("epoch")
plt.ylabel("eval top-1")
plt.title(f"{cfg['Arch']['name']} on the quickstart shapes")
plt.legend()
plt.show()
display(history[["lr", "train_loss", "eval_top1", "ema_top1"]])

# %% [markdown]
# ## Where to go next
#
# * `02_classic_nets.ipynb`: the residual, dense and attention backbones of the zoo.
# * `03_acnet.ipynb`: ACBlock trained in a small net, fused and timed.
# * `04_asymmnet_caltech16.ipynb`: AsymmNet and MobileNetV2 on Caltech-16.
# * `05_d2l_fashion_mnist.ipynb`: the classic CNNs of *Dive into Deep Learning* on Fashion-MNIST.
