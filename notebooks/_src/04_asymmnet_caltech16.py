# %% [markdown]
# # AsymmNet 非对称瓶颈 · AsymmNet on Caltech-16
#
# Yang, Shen and Zhao, *AsymmNet: Towards ultralight convolution neural networks using asymmetrical
# bottlenecks*, CVPR workshops 2021 (arXiv 2104.07770). The source project trains AsymmNet on a 16-class
# Caltech subset and compares it with MobileNetV2 and larger baselines. This notebook follows it: it looks at
# the data, describes the block and counts the cost of both AsymmNet sizes, trains from the project's config
# files (a short demonstration), shows where VisualDL finds the logs, and then shows the committed records of the
# full-length runs (`docs/results/runs/caltech16/`): AsymmNet against MobileNetV2, and the tutorial's recipe
# against the suite's improved one.

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
from IPython.display import display

from paddle_tricks.config import load_config
from paddle_tricks.data import CALTECH16_CLASSES, ShapesDataset, caltech16_split
from paddle_tricks.data.image_list import load_rgb
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.models import create_model
from paddle_tricks.utils.complexity import count_madds, count_params
from paddle_tricks.utils.notebook import comparison_lines, find_data, page_records, run_history


# %% [markdown]
# ## 1. 数据 · Caltech-16
#
# The source project's 16-class "Caltech mini" set was never published with its class list, so the project
# defines **Caltech-16** from Caltech-101. It takes the 16 largest categories after leaving out the background
# class and the four categories with more than 400 images, breaking ties alphabetically. The split follows the
# source: inside each class, files sorted by name, every fifth file (index % 5 == 0) goes to evaluation.
#
# The notebook looks for Caltech-101 at `$PADDLE_TRICKS_CALTECH101`, then `data/caltech101` in the repository
# (`python tools/prepare_data.py caltech16` puts it there), then `../shared/data/caltech101` beside the
# repository. In smoke mode it falls back to the generated shapes set when none exists.

# %%
DATA_ROOT = find_data("caltech101", ROOT)
if DATA_ROOT is None and not SMOKE:
    raise FileNotFoundError("Caltech-101 not found: run `python tools/prepare_data.py caltech16 --source PATH` "
                            "or set PADDLE_TRICKS_CALTECH101")
if DATA_ROOT is None:
    print("Caltech-101 not found: smoke mode continues with the generated shapes set")
else:
    train_items, eval_items = caltech16_split(DATA_ROOT)
    counts = pd.DataFrame({"train": np.bincount([y for _, y in train_items], minlength=16),
                           "eval": np.bincount([y for _, y in eval_items], minlength=16)},
                          index=pd.Index(CALTECH16_CLASSES, name="class"))
    counts.loc["total"] = counts.sum()
    display(counts.T)

# %%
fig, axes = plt.subplots(4, 4, figsize=(6.5, 6.8))
if DATA_ROOT is not None:
    first = {}
    for path, label in train_items:
        first.setdefault(label, path)
    samples = [(load_rgb(first[k]), CALTECH16_CLASSES[k]) for k in range(16)]
else:
    shapes = ShapesDataset("train", num_per_class=1, image_size=64)
    samples = [(img, shapes.classes[int(label)]) for img, label in (shapes[i] for i in range(16))]
for ax, (img, name) in zip(axes.ravel(), samples):
    ax.imshow(img)
    ax.set_title(name, fontsize=8)
    ax.axis("off")
plt.suptitle("one training image per class")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. 网络 · The asymmetrical bottleneck
#
# MobileNetV2 and V3 blocks expand the input with a 1×1 convolution, filter it with a depthwise k×k
# convolution, and project it back with a linear 1×1. AsymmNet argues that the first 1×1 mostly copies
# information, so it lets that convolution produce only `exp − r·C_in` channels and concatenates r copies of the
# raw block input on each side (r = `asymmrate`, 1 by default). In words, one block is:
#
# > input x (C_in) → [1×1 conv + BN + act → exp − r·C_in channels] → concat(x, expanded, x) → depthwise k×k
# > conv + BN + act on exp + r·C_in channels → [squeeze-and-excitation] → linear 1×1 conv + BN → C_out
# > (+ x when the shape allows)
#
# The saved multiply-adds go to a wider depthwise and projection stage. A block whose expansion is not larger
# than its input has no 1×1 expansion at all. The table lists every block of AsymmNet-Large at width 1.0,
# read from the model itself.

# %%
net = create_model("asymmnet_large")
rows = []
for i, block in enumerate(net.blocks):
    dw = block.dw.conv
    rows.append({"block": i + 1, "C_in": dw._in_channels if block.expand is None else block.expand.conv._in_channels,
                 "1×1 expand out": "-" if block.expand is None else block.expand.conv._out_channels,
                 "depthwise channels": dw._out_channels, "kernel": dw._kernel_size[0], "stride": dw._stride[0],
                 "SE": "yes" if block.se is not None else "", "act": type(block.dw.act).__name__,
                 "C_out": block.project.conv._out_channels, "residual": "yes" if block.use_residual else ""})
display(pd.DataFrame(rows).set_index("block"))

# %% [markdown]
# ### Cost at each width · 参数量与计算量
#
# Parameters and multiply-adds at the ImageNet setting (1000 classes, 224 px), next to the figures of the
# official code, and at the Caltech-16 settings of this project (16 classes at the tutorial's 256 px and the CPU
# runs' 112 px). MobileNetV2 is the source project's main baseline.

# %%
PUBLISHED = {  # (MAdds in M, params in M) of the official AsymmNet code / the MobileNetV2 paper
    ("asymmnet_large", 1.0): (216.9, 5.99), ("asymmnet_large", 0.75): (142.1, 4.3),
    ("asymmnet_large", 0.5): (67.2, 2.8), ("asymmnet_large", 0.35): (42.6, 2.2),
    ("asymmnet_small", 1.0): (57.7, 3.1), ("asymmnet_small", 0.75): (40.8, 2.5),
    ("asymmnet_small", 0.5): (20.6, 2.0), ("asymmnet_small", 0.35): (15.2, 1.7),
    ("mobilenet_v2", 1.0): (300.0, 3.4),
}
rows = []
for (name, width), (madds_pub, params_pub) in PUBLISHED.items():
    imagenet = create_model(name, width_mult=width)
    caltech = create_model(name, num_classes=16, width_mult=width)
    rows.append({"model": f"{name} ×{width}", "params (M)": count_params(imagenet) / 1e6,
                 "published params (M)": params_pub,
                 "MAdds at 224 (M)": count_madds(imagenet, (1, 3, 224, 224)) / 1e6,
                 "published MAdds (M)": madds_pub,
                 "16 classes: params (M)": count_params(caltech) / 1e6,
                 "MAdds at 256 (M)": count_madds(caltech, (1, 3, 256, 256)) / 1e6,
                 "MAdds at 112 (M)": count_madds(caltech, (1, 3, 112, 112)) / 1e6})
cost = pd.DataFrame(rows).set_index("model")
display(cost)

plt.figure(figsize=(6.5, 3.8))
for prefix, marker in (("asymmnet_large", "o-"), ("asymmnet_small", "s-"), ("mobilenet_v2", "^")):
    part = cost[cost.index.str.startswith(prefix)]
    plt.plot(part["MAdds at 224 (M)"], part["params (M)"], marker, label=prefix)
    for label, row in part.iterrows():
        plt.annotate(label.split(" ")[1], (row["MAdds at 224 (M)"], row["params (M)"]), fontsize=8,
                     xytext=(3, 3), textcoords="offset points")
plt.xlabel("multiply-adds at 224 px (M)")
plt.ylabel("parameters (M)")
plt.title("AsymmNet widths and MobileNetV2 (1000 classes)")
plt.legend()
plt.show()

# %% [markdown]
# The parameter count of AsymmNet-L ×1.0 is 6.08 M here and in the official code; the paper's 5.99 M comes
# from a counting script that under-counts depthwise kernels (see the docstring of
# `paddle_tricks/models/asymmnet.py`). The multiply-adds agree with the official figures.
#
# ## 3. 训练 · Training from a config (short demonstration)
#
# `configs/caltech16/asymmnet_small.yaml` holds the source project's recipe: Resize to 256, random rotation of
# 10°, the tutorial's mean/std normalisation, momentum 0.9, learning rate 0.01 with cosine decay, L2 2e-4 (1e-4
# for MobileNetV2), batch 32, 100 epochs. The same file drives `python tools/train.py -c ...`. In the notebook,
# `load_config` reads it and `Trainer` runs it. Smoke mode overrides it down to a few batches of 64 px images
# for one epoch; the real setting trains the config as it is and resumes if it was interrupted.
#
# **Short demonstration, not a result:** the cell shows that the config trains and where the run writes its
# metrics. Its accuracies are not the ones to read: those are the committed records of the full-length runs in
# section 5.

# %%
config_file = ROOT / "configs" / "caltech16" / "asymmnet_small.yaml"
run_dir = tempfile.mkdtemp(prefix="caltech16_") if SMOKE else str(ROOT / "output" / "caltech16" / "asymmnet_small")
overrides = [f"Global.output_dir={run_dir}", "Global.verbose=0"]
if DATA_ROOT is not None:
    overrides.append(f"Data.root={DATA_ROOT}")
else:   # smoke mode without the data: the generated shapes instead
    overrides += ["Data.dataset=quickstart", "Data.root=null",
                  "Data.options={num_per_class: 4, eval_per_class: 2, image_size: 64}"]
if SMOKE:
    small = ("[{Resize: {size: [64, 64]}}, {Transpose: {}}, {Normalize: {mean: [129.92, 139.31, 146.39], "
             "std: [66.45, 66.41, 74.51], data_format: CHW}}]")
    overrides += ["Global.epochs=1", "Data.limit_train=48", "Data.limit_eval=32", "Data.batch_size=16",
                  "Data.num_workers=0", f"Data.train_transforms={small}", f"Data.eval_transforms={small}"]
else:
    overrides.append("Global.resume=auto")
cfg = load_config(str(config_file), overrides)

recipe = {"model": f"{cfg['Arch']['name']} {cfg['Arch']['options']}", "epochs": cfg["Global"]["epochs"],
          "batch size": cfg["Data"]["batch_size"],
          "train transforms": ", ".join(next(iter(t)) for t in cfg["Data"]["train_transforms"]),
          "optimizer": f"{cfg['Optimizer']['name']}, momentum {cfg['Optimizer']['momentum']}, "
                       f"L2 {cfg['Optimizer']['weight_decay']}",
          "learning rate": f"{cfg['LR']['name']} from {cfg['LR']['base_lr']}",
          "limit_train / limit_eval": f"{cfg['Data']['limit_train']} / {cfg['Data']['limit_eval']}"}
display(pd.DataFrame({"setting": recipe}))

summary = Trainer(cfg).fit()
display(run_history(summary["output_dir"]))          # the run's metrics.jsonl, one row per epoch

# %% [markdown]
# ## 4. VisualDL
#
# The trainer writes VisualDL logs (loss, accuracy, learning rate and the EMA metrics, per step and per epoch)
# to `<output_dir>/vdl`. To watch one of your runs or compare several, point VisualDL at their parent folder (the
# real setting of section 3 trains into `output/caltech16/`). On this machine the server needs
# `--host 127.0.0.1 --language en` to serve its page. The committed records of section 5 hold no VisualDL logs.

# %%
print("this run's logs:", sorted(p.name for p in pathlib.Path(run_dir, "vdl").glob("*")))
print("\nto browse your own Caltech-16 runs:")
print("    visualdl --logdir output/caltech16 --host 127.0.0.1 --port 8040 --language en")

# %% [markdown]
# ## 5. 结果 · The recorded runs: AsymmNet vs MobileNetV2, tutorial vs improved recipe
#
# **These are the numbers to read.** `bash benchmarks/caltech16_recipes.sh` trains the full-length runs on this
# project's CPU and publishes each run's record (config, per-epoch metrics, summary) to
# `docs/results/runs/caltech16/<configuration>_s<seed>/`: AsymmNet-L and MobileNetV2 with the tutorial's recipe and
# with the suite's improved recipe (`*_improved`: CosineWarmup, EMA, label smoothing, random crops and flips), seeds
# 42 and 1, and AsymmNet-S with the tutorial's recipe. They train at the CPU size of `configs/caltech16/cpu/`:
# smaller images and fewer epochs than the tutorial's 256 px and 100 epochs, which `configs/caltech16/*.yaml` keep
# for a GPU. The cell reads those records with `paddle_tricks.report`:
# first the settings of each run, from its `config.yaml`; then eval top-1 per epoch (EMA top-1 dashed, for the runs
# that keep an EMA); then the block that `paddle-tricks report --page caltech16` writes into
# [docs/results/caltech16.md](../docs/results/caltech16.md), the same text, generated by the same function. Runs
# that were still training when they were published are marked unfinished.

# %%
RECORDS = page_records(ROOT / "docs" / "results", "caltech16")    # None until the first record is committed
if RECORDS is None:
    print("No Caltech-16 run record is committed yet: `bash benchmarks/caltech16_recipes.sh` trains the runs and "
          "publishes their records to docs/results/runs/caltech16/.")
else:
    RECORDS.show(title="Caltech-16, committed records: eval top-1 per epoch")

# %% [markdown]
# The pairs: final eval top-1 (last recorded epoch) of two records of the same seed, AsymmNet against MobileNetV2
# under the same recipe, then the improved recipe against the tutorial's for the same network. The lines are
# computed from the records above; a pair with an unfinished record compares different numbers of epochs.

# %%
if RECORDS is not None:
    print("\n".join(comparison_lines(RECORDS.rows)) or "no pair of records of the same seed yet")

# %% [markdown]
# The source project found AsymmNet quicker to converge than MobileNetV2 at a fraction of its cost. Whether that
# holds on Caltech-16, at this CPU size, is what the records above say; the verdict is written beside the same
# block in [docs/results/caltech16.md](../docs/results/caltech16.md).
