"""Command-line entry points behind ``tools/train.py`` and ``tools/eval.py``.

A user mistake (``UserError``: bad config, missing data, unfit checkpoint, a diverged run) ends with one
``error:`` line and exit code 2, never a traceback. So does a full disk or a read-only folder met outside
the checkpoint writer (``OSError`` ENOSPC, EDQUOT, EROFS, EACCES): finished epochs stay in the checkpoint.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .utils.console import quiet, user_errors

__all__ = ["train_main", "eval_main"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", required=True, help="YAML config file")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="Section.key=value",
                        help="override a config value (YAML syntax); repeatable")


@user_errors
def train_main(argv=None) -> int:
    """``tools/train.py``: train a config."""
    parser = argparse.ArgumentParser(description="Train a model from a YAML config.")
    _common(parser)
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue an interrupted run (its own latest checkpoint, or the path given)")
    args = parser.parse_args(argv)
    quiet()
    from .config import load_config
    cfg = load_config(args.config, args.override)
    from .engine.trainer import Trainer
    Trainer(cfg).fit(resume=args.resume)
    return 0


@user_errors
def eval_main(argv=None) -> int:
    """``tools/eval.py``: evaluate saved weights on the config's eval set."""
    parser = argparse.ArgumentParser(description="Evaluate trained weights on the eval set of a config.")
    _common(parser)
    parser.add_argument("-w", "--weights", default=None,
                        help="a .pdparams file or training checkpoint (default: <output_dir>/best.pdparams)")
    parser.add_argument("--ema", action="store_true", help="use the EMA weights (<output_dir>/best.ema.pdparams)")
    parser.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    args = parser.parse_args(argv)
    quiet()
    from .config import load_config
    cfg = load_config(args.config, args.override)
    from .data.build import build_datasets, build_loader
    from .engine.checkpoint import load_weights
    from .engine.device import select_device
    from .engine.evaluate import evaluate_network
    from .models import build_network
    select_device(cfg["Global"]["device"])
    out = cfg["Global"]["output_dir"]
    weights = args.weights or os.path.join(out, "best.ema.pdparams" if args.ema else "best.pdparams")
    if args.weights and args.ema:
        print("note: --weights given, --ema ignored", file=sys.stderr)
    net = build_network(cfg)
    load_weights(net, weights)
    _, eval_set = build_datasets(cfg["Data"], seed=cfg["Global"]["seed"])
    d = cfg["Data"]
    loader = build_loader(eval_set, d["eval_batch_size"] or d["batch_size"], train=False,
                          num_workers=d["num_workers"])
    res = evaluate_network(net, loader, cfg["Arch"]["num_classes"])
    classes = list(getattr(eval_set, "classes", None) or range(cfg["Arch"]["num_classes"]))
    k = [key for key in res if key.startswith("top") and key != "top1"][0]
    print(f"weights: {weights}")
    print(f"samples: {res['samples']}  loss: {res['loss']:.4f}  top-1: {res['top1']:.4f}  {k}: {res[k]:.4f}")
    print("per-class top-1:")
    width = max(len(str(c)) for c in classes)
    for c, acc in zip(classes, res["per_class"]):
        print(f"  {str(c):<{width}}  {acc:.3f}" if acc == acc else f"  {str(c):<{width}}  (no samples)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**res, "classes": [str(c) for c in classes], "weights": weights}, f, indent=1)
    return 0
