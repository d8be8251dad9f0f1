"""Notebook 03: ACNet: ACBlock anatomy, a small ACNet trained against its plain twin, fusion and speed."""
from .common import code, md, setup

FILE = "03_acnet.ipynb"

TITLE = """
# ACNet 非对称卷积块 · Asymmetric convolution blocks: train three kernels, deploy one

Ding, Guo, Ding and Han, *ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric
Convolution Blocks*, ICCV 2019 (arXiv 1908.03930). The source article explains the block, its batch-norm and
branch fusion, and the check that the fused network computes the same thing. This notebook does that with
`paddle_tricks`. It looks inside one block, turns every 3×3 convolution of a small CNN into an ACBlock by
model surgery, trains it next to the plain CNN, fuses it, and compares outputs, parameters and speed.
"""

CELLS = [
    setup("""
import copy
import paddle.nn.functional as F

from paddle_tricks.data import ShapesDataset, build_transforms
from paddle_tricks.deploy import fuse_bn_tensor, reparameterize
from paddle_tricks.layers import ACBlock, ConvBNAct
from paddle_tricks.tricks import apply_tricks
from paddle_tricks.utils.complexity import count_madds, count_params
"""),
    md("""
## 1. 思路 · The idea

An ACBlock replaces a k×k convolution (with its BN) by three branches trained together: the k×k kernel, a
horizontal 1×k kernel and a vertical k×1 kernel, each followed by its own batch norm, and their outputs are
summed. The block adds no hyperparameters and drops into any architecture. Once training is over, two facts
make it free at inference:

1. **BN folding.** In evaluation mode a batch norm is an affine map per channel, so conv → BN equals one conv
   with the kernel scaled by γ/σ and a bias β − μ·γ/σ.
2. **Additivity.** Convolutions whose sliding windows are aligned can be added kernel-wise: the 1×k kernel is
   a k×k kernel that is zero outside its centre row, and the k×1 kernel likewise for the centre column.

So the three branches collapse into one k×k convolution. Its centre cross (the *skeleton*) received extra
learned weight, which the paper credits for the accuracy gain.

## 2. 一个块的融合 · Fusing one block by hand

Here the fusion is done step by step with `fuse_bn_tensor`, then compared with the block's own
`get_equivalent_kernel_bias()` and with its output after `reparameterize`.
"""),
    code('''
paddle.seed(0)
block = ACBlock(4, 4, kernel_size=3)
for layer in block.sublayers():          # give every BN non-trivial statistics, as after training
    if isinstance(layer, nn.BatchNorm2D):
        c = layer.weight.shape[0]
        layer._mean.set_value(paddle.uniform([c], min=-0.5, max=0.5))
        layer._variance.set_value(paddle.uniform([c], min=0.2, max=2.0))
        layer.weight.set_value(paddle.uniform([c], min=0.3, max=1.5))
        layer.bias.set_value(paddle.uniform([c], min=-0.5, max=0.5))
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
'''),
    md("""
## 3. 小网络 · A small CNN and its ACNet twin

The baseline is a plain stack of `ConvBNAct` units (conv → BN → ReLU), the building block of every backbone
in the package. `apply_tricks(net, {"conv3x3": "acblock"})` swaps every 3×3 conv of such units for an ACBlock.
The unit's own BN becomes an identity, because each branch has its own. The same line works for any network of
the zoo, and a config does it with `Arch.tricks: {conv3x3: acblock}`.
"""),
    code('''
SIZE = 32                                   # image side
WIDTH = 16 if SMOKE else 32                 # channels of the first stage


def small_convnet(num_classes=16, width=WIDTH):
    """Five 3×3 ConvBNAct units, two of them strided, global pooling and a linear classifier."""
    return nn.Sequential(
        ConvBNAct(3, width, 3), ConvBNAct(width, 2 * width, 3, stride=2),
        ConvBNAct(2 * width, 2 * width, 3), ConvBNAct(2 * width, 4 * width, 3, stride=2),
        ConvBNAct(4 * width, 4 * width, 3),
        nn.AdaptiveAvgPool2D(1), nn.Flatten(), nn.Linear(4 * width, num_classes))


paddle.seed(0)
baseline = small_convnet()
paddle.seed(0)
acnet = apply_tricks(small_convnet(), {"conv3x3": "acblock", "input_size": SIZE})
print(acnet[1])
display(pd.DataFrame([
    {"net": "baseline", "params": count_params(baseline), "MAdds": count_madds(baseline, (1, 3, SIZE, SIZE))},
    {"net": "ACNet (training form)", "params": count_params(acnet), "MAdds": count_madds(acnet, (1, 3, SIZE, SIZE))},
]).set_index("net"))
'''),
    md("""
## 4. 训练 · Training both on the same data

The data are the package's generated shapes (16 classes of coloured discs, squares, triangles and crosses on
noisy backgrounds, no download). Both nets start from the same seed, see the same batches and use the same
recipe: momentum SGD, cosine learning rate, weight decay 1e-4, random horizontal flips.
"""),
    code('''
PER_CLASS, EVAL_PER_CLASS, EPOCHS, BATCH = (24, 8, 3, 32) if SMOKE else (200, 50, 15, 64)
normalise = [{"Transpose": {}}, {"Normalize": {"mean": [127.5] * 3, "std": [63.75] * 3, "data_format": "CHW"}}]
train_set = ShapesDataset("train", build_transforms([{"RandomHorizontalFlip": {}}] + normalise),
                          num_per_class=PER_CLASS, image_size=SIZE)
eval_set = ShapesDataset("eval", build_transforms(normalise), num_per_class=PER_CLASS,
                         eval_per_class=EVAL_PER_CLASS, image_size=SIZE)
eval_loader = paddle.io.DataLoader(eval_set, batch_size=128)
print(f"{len(train_set)} training and {len(eval_set)} evaluation images of {SIZE}×{SIZE} px, "
      f"{EPOCHS} epochs of batch {BATCH}")


@paddle.no_grad()
def evaluate(net):
    """Top-1 accuracy and the logits of the whole evaluation set (eval mode)."""
    net.eval()
    logits = paddle.concat([net(x) for x, _ in eval_loader])
    labels = paddle.concat([y for _, y in eval_loader])
    return float((logits.argmax(1) == labels).astype("float32").mean()), logits


def train(net, epochs=EPOCHS, lr=0.05):
    paddle.seed(0)
    np.random.seed(0)
    loader = paddle.io.DataLoader(train_set, batch_size=BATCH, shuffle=True, drop_last=True)
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=epochs * len(loader))
    opt = paddle.optimizer.Momentum(schedule, momentum=0.9, parameters=net.parameters(), weight_decay=1e-4)
    rows = []
    for epoch in range(1, epochs + 1):
        net.train()
        start, losses = time.perf_counter(), []
        for x, y in loader:
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            opt.clear_grad()
            schedule.step()
            losses.append(float(loss))
        seconds = time.perf_counter() - start
        rows.append({"epoch": epoch, "train loss": np.mean(losses), "eval top-1": evaluate(net)[0],
                     "train seconds": seconds})
    return pd.DataFrame(rows).set_index("epoch")


histories = {"baseline": train(baseline), "ACNet": train(acnet)}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for name, h in histories.items():
    axes[0].plot(h.index, h["train loss"], "o-", label=name)
    axes[1].plot(h.index, h["eval top-1"], "o-", label=name)
axes[0].set_title("training loss")
axes[1].set_title("evaluation top-1")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend()
plt.tight_layout()
plt.show()
display(pd.DataFrame({name: {"final eval top-1": h["eval top-1"].iloc[-1], "best eval top-1": h["eval top-1"].max(),
                             "seconds per epoch": h["train seconds"].mean()} for name, h in histories.items()}).T)
'''),
    md("""
## 5. 融合与对比 · Fuse, then compare outputs, size and speed

`reparameterize` asks every ACBlock to fuse itself and folds the BN of every remaining `ConvBNAct` into its
convolution. It is applied to a copy, so the trained form stays available for the comparison. The baseline is
folded too, because a deployed plain net also has no separate BN. After fusion, ACNet is a plain CNN of exactly
the baseline's shape. The machine that produced the stored timings is shared with other jobs, so small
differences between the timings are noise. The fused ACNet should time like the folded baseline, and the
training form should be clearly slower.
"""),
    code('''
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
'''),
    md("""
## 6. 骨架 · The kernel skeleton

Average |weight| at each of the nine kernel positions over all 3×3 layers, each layer normalised to its
largest position. The paper reports that the centre cross of the fused ACNet kernels carries more weight than
in a normally trained net. Part of this holds by construction (two extra branches add to the cross), and
training with the extra branches strengthens it further.
"""),
    code('''
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
'''),
    md("""
## 7. 在任意网络上 · On any network

The same two steps work for every model of the zoo and from the command line:

```yaml
# a config delta: every 3×3 ConvBNAct of the backbone becomes an ACBlock
Arch:
  tricks: {conv3x3: acblock}          # or {type: acblock, gamma_init: 0.333} for ACNet's CIFAR setting
```

```bash
python tools/train.py -c my_config.yaml
python tools/export.py -c my_config.yaml    # fuses (reparameterize), saves with paddle.jit and checks the outputs
```
"""),
]
