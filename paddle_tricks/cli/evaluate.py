"""``paddle-tricks eval``: evaluate trained weights on the eval set of a config or a run folder."""
from __future__ import annotations

import argparse
import os
import sys

from ..utils.console import quiet, user_errors
from .common import add_config_arguments, check_output_file, load_cli_config

__all__ = ["eval_main"]


@user_errors
def eval_main(argv=None) -> int:
    """Evaluate the run's best (or EMA, or given) weights; print loss, top-1, top-5 and per-class top-1."""
    parser = argparse.ArgumentParser(prog="paddle-tricks eval",
                                     description="Evaluate trained weights on the eval set of a config.")
    add_config_arguments(parser, run_folder=True)
    parser.add_argument("-w", "--weights", default=None,
                        help="a .pdparams file or training checkpoint (default: the run's best weights)")
    parser.add_argument("--ema", action="store_true", help="use the run's best EMA weights")
    parser.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    args = parser.parse_args(argv)
    quiet()
    check_output_file(args.json, "--json", (".json",))
    cfg = load_cli_config(args.config, args.override, run_folder=True)
    from ..data.build import build_datasets, build_loader
    from ..engine.checkpoint import load_weights
    from ..utils.atomic import write_json
    from ..engine.device import select_device
    from ..engine.evaluate import evaluate_network
    from ..infer.run_folder import run_classes, run_weights
    from ..models import build_network
    if args.weights and args.ema:
        print("note: --weights given, --ema ignored", file=sys.stderr)
    weights = os.path.abspath(args.weights) if args.weights else run_weights(cfg, args.ema)
    select_device(cfg["Global"]["device"])
    net = build_network(cfg)
    load_weights(net, weights)
    _, eval_set = build_datasets(cfg["Data"], seed=cfg["Global"]["seed"])
    d = cfg["Data"]
    loader = build_loader(eval_set, d["eval_batch_size"] or d["batch_size"], train=False,
                          num_workers=d["num_workers"])
    res = evaluate_network(net, loader, cfg["Arch"]["num_classes"])
    classes = run_classes(cfg)
    k = [key for key in res if key.startswith("top") and key != "top1"][0]
    print(f"weights: {weights}")
    print(f"samples: {res['samples']}  loss: {res['loss']:.4f}  top-1: {res['top1']:.4f}  "
          f"top-{k[3:]}: {res[k]:.4f}")
    print("per-class top-1:")
    width = max(len(str(c)) for c in classes)
    for c, acc in zip(classes, res["per_class"]):
        print(f"  {str(c):<{width}}  {acc:.3f}" if acc == acc else f"  {str(c):<{width}}  (no samples)")
    if args.json:
        write_json({**res, "classes": classes, "weights": weights}, os.path.abspath(args.json))
        print(f"metrics written to {os.path.abspath(args.json)}")
    return 0
