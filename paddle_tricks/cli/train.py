"""``paddle-tricks train``: train a config."""
from __future__ import annotations

import argparse

from ..utils.console import quiet, user_errors
from .common import add_config_arguments, load_cli_config

__all__ = ["train_main"]


@user_errors
def train_main(argv=None) -> int:
    """Train the config named by ``-c`` (a file or a shipped config name)."""
    parser = argparse.ArgumentParser(prog="paddle-tricks train", description="Train a model from a YAML config.")
    add_config_arguments(parser)
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue an interrupted run (its own latest checkpoint, or the path given)")
    args = parser.parse_args(argv)
    quiet()
    cfg = load_cli_config(args.config, args.override)
    from ..engine.trainer import Trainer
    Trainer(cfg).fit(resume=args.resume)
    return 0
