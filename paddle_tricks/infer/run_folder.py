"""What a training run's folder (``Global.output_dir``) tells about using its model.

The run's saved ``config.yaml`` gives the network and the eval preprocessing; ``classes.json`` (when the
trainer wrote it) the class names, else the dataset's known names, else the class indices. A run folder
given on the command line sets ``Global.output_dir`` to itself, so a path relative to another working
folder is no trap.
"""
from __future__ import annotations

import json
import os

from ..engine import run_files
from ..errors import UserError

__all__ = ["is_run_folder", "load_run_config", "run_weights", "run_classes", "image_mode", "native_size"]


def is_run_folder(path: str) -> bool:
    """``path`` is a folder holding a run's ``config.yaml``."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, run_files.CONFIG))


def load_run_config(run_dir: str, overrides: list[str] | None = None) -> dict:
    """The validated config saved with the run in ``run_dir``, with ``Global.output_dir`` set to ``run_dir``."""
    from ..config import load_config
    if not is_run_folder(run_dir):
        raise UserError(f"{os.path.abspath(run_dir)} is not a run folder (no {run_files.CONFIG}): give a config "
                        f"or the Global.output_dir of a training run")
    cfg = load_config(run_files.run_file(run_dir, run_files.CONFIG), overrides)
    cfg["Global"]["output_dir"] = os.path.abspath(run_dir)
    return cfg


def run_weights(cfg: dict, ema: bool = False) -> str:
    """The best (or best EMA) weights of the run of ``cfg``; a missing file says to train first."""
    out = cfg["Global"]["output_dir"]
    path = run_files.run_file(out, run_files.BEST_EMA if ema else run_files.BEST)
    if os.path.isfile(path):
        return path
    if ema and os.path.isfile(run_files.run_file(out, run_files.BEST)):
        raise UserError(f"the run in {os.path.abspath(out)} has no EMA weights ({run_files.BEST_EMA}): it was "
                        f"trained with EMA.enable=false; drop --ema")
    raise UserError(f"no trained weights in {os.path.abspath(out)} (looked for {os.path.basename(path)}): train "
                    f"first (`paddle-tricks train -c CONFIG`), or pass --weights")


def run_classes(cfg: dict) -> list[str]:
    """The class names of the run, in label order (``num_classes`` of them)."""
    n = cfg["Arch"]["num_classes"]
    path = run_files.run_file(cfg["Global"]["output_dir"], run_files.CLASSES)
    try:
        with open(path, encoding="utf-8") as f:
            names = json.load(f)
        if isinstance(names, list) and len(names) == n:
            return [str(c) for c in names]
    except (OSError, ValueError):
        pass
    data = cfg["Data"]
    known = []
    if data["dataset"] == "quickstart":
        from ..data.quickstart import QUICKSTART_CLASSES as known
    elif data["dataset"] == "fashion_mnist":
        from ..data.fashion_mnist import FASHION_MNIST_CLASSES as known
    elif data["dataset"] == "caltech16":
        from ..data.caltech16 import CALTECH16_CLASSES as known
    elif data["root"] and os.path.isdir(os.path.join(data["root"], "train")):
        train = os.path.join(data["root"], "train")
        known = sorted(d for d in os.listdir(train) if os.path.isdir(os.path.join(train, d)) and not d.startswith("."))
    return list(known) if len(known) == n else [str(i) for i in range(n)]


def image_mode(cfg: dict) -> str:
    """The PIL mode the dataset hands to the transforms: ``L`` for Fashion-MNIST, ``RGB`` otherwise."""
    return "L" if cfg["Data"]["dataset"] == "fashion_mnist" else "RGB"


def native_size(cfg: dict) -> int | None:
    """The side of the dataset's own images when they all have one (quickstart, Fashion-MNIST), else None."""
    data = cfg["Data"]
    if data["dataset"] == "quickstart":
        return int(data["options"].get("image_size", 32))
    if data["dataset"] == "fashion_mnist":
        return 28
    return None
