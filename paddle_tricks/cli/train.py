"""``paddle-tricks train``: train a config."""
from __future__ import annotations

import argparse

from ..utils.console import quiet, user_errors
from .common import add_config_arguments

__all__ = ["train_main"]


@user_errors
def train_main(argv=None) -> int:
    """Train the config named by ``-c`` (a file or a shipped config name)."""
    parser = argparse.ArgumentParser(prog="paddle-tricks train", description="Train a model from a YAML config.")
    add_config_arguments(parser)
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue an interrupted run (its own latest checkpoint, or the path given)")
    parser.add_argument("--backup", action="store_true",
                        help="if Global.output_dir holds another run's results, move them to "
                             "<output_dir>.backup-<time> and start a new run there")
    args = parser.parse_args(argv)
    quiet()
    from ..utils.memory import keep_freed_memory
    keep_freed_memory()  # no page re-faulting of activations each step (PADDLE_TRICKS_MALLOC=default: off)
    from ..engine import run_training
    run_training(args.config, args.override, resume=args.resume, backup=args.backup)
    return 0
