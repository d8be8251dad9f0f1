"""The measured workload: MobileNetV2 on Caltech-16 at 112 px, batch 32 (``configs/caltech16/cpu``), EMA and
VisualDL on, and the step counts of the full run and of ``--quick`` (a smoke run of a few seconds a section)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, "configs", "caltech16", "cpu", "mobilenet_v2_112.yaml")
DATA_ROOT = os.path.join(os.path.dirname(ROOT), "shared", "data", "caltech101")


@dataclass(frozen=True)
class Sizes:
    """How much each section measures."""
    image: int                 # training image size (px)
    batch: int                 # training batch size
    warmup: int                # untimed steps (or calls) of each variant before the timed ones
    overhead_epochs: int       # trainer overhead: epochs of paired steps
    overhead_steps: int        # ... steps per epoch (the warm-up ones included)
    fixed_cost_steps: int      # ... and per epoch of the fixed-cost run (2 epochs, batch 2 at 32 px)
    eval_images: int           # evaluation images where evaluation is not the thing measured
    ema_rounds: int
    save_rounds: int
    loader_turns: int          # data loader: alternating turns, each a fresh iterator over loader_batches batches
    loader_batches: int
    infer_image: int
    infer_rounds: tuple        # (batch size, rounds) of inference
    epoch_train_images: int | None   # end-to-end epoch: None = the whole Caltech-16 training set
    epoch_eval_images: int | None
    epoch_pairs: int           # ... pairs of runs, this checkout and the base
    epoch_epochs: int          # ... epochs per run (each run's accuracy after them is compared too)
    memory_pairs: int          # freed memory kept: pairs of runs
    memory_steps: int          # ... timed steps per run
    parallel_pairs: int        # data parallel: pairs of runs
    parallel_steps: int        # ... steps per run (the warm-up ones included)


FULL = Sizes(image=112, batch=32, warmup=3, overhead_epochs=3, overhead_steps=14,
             fixed_cost_steps=63, eval_images=64, ema_rounds=200,
             save_rounds=30, loader_turns=8, loader_batches=4, infer_image=112, infer_rounds=((1, 60), (16, 15)),
             epoch_train_images=None, epoch_eval_images=None, epoch_pairs=1, epoch_epochs=3, memory_pairs=2, memory_steps=5,
             parallel_pairs=3, parallel_steps=16)
QUICK = Sizes(image=32, batch=8, warmup=1, overhead_epochs=2, overhead_steps=3,
              fixed_cost_steps=3, eval_images=8, ema_rounds=6,
              save_rounds=3, loader_turns=2, loader_batches=2, infer_image=32, infer_rounds=((1, 3), (16, 2)),
              epoch_train_images=24, epoch_eval_images=8, epoch_pairs=1, epoch_epochs=2, memory_pairs=1, memory_steps=2,
              parallel_pairs=1, parallel_steps=4)


def caltech_overrides(sizes: Sizes, output_dir: str, data_root: str = DATA_ROOT, train_images: int | None = None,
                      eval_images: int | None = None, batch: int | None = None, epochs: int = 1) -> list[str]:
    """``-o`` overrides of the Caltech-16 CPU config: ``sizes.image`` px, ``epochs`` epochs, EMA and VisualDL on,
    silent.
    Plain overrides, so that an older checkout of the suite (``epoch --base``) reads them too."""
    overrides = [f"Global.output_dir={output_dir}", f"Global.epochs={epochs}", "Global.verbose=0",
                 f"Data.root={data_root}", f"Data.batch_size={batch or sizes.batch}", "EMA.enable=true",
                 "VisualDL.enable=true"]
    if train_images:
        overrides.append(f"Data.limit_train={train_images}")
    if eval_images:
        overrides.append(f"Data.limit_eval={eval_images}")
    from paddle_tricks.config import load_config
    data = load_config(CONFIG, overrides)["Data"]
    for key in ("train_transforms", "eval_transforms"):
        transforms = [{"Resize": {**t["Resize"], "size": [sizes.image, sizes.image]}} if "Resize" in t else t
                      for t in data[key]]
        if transforms != data[key]:
            overrides.append(f"Data.{key}={json.dumps(transforms)}")     # JSON is YAML
    return overrides


def caltech_config(*args, **kwargs) -> dict:
    """The validated config of ``caltech_overrides(*args, **kwargs)``."""
    from paddle_tricks.config import load_config
    return load_config(CONFIG, caltech_overrides(*args, **kwargs))


def describe(sizes: Sizes) -> str:
    """The workload in one phrase, for the page."""
    return f"MobileNetV2 (16 classes) on Caltech-16 at {sizes.image} px, batch {sizes.batch}"
