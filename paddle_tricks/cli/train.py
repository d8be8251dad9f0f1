"""``paddle-tricks train``: train a config."""
from __future__ import annotations

import argparse

from ..utils.console import is_verbose, quiet, stop_on_sigterm, under_launcher, user_errors
from .common import add_config_arguments, check_positive, load_cli_config

__all__ = ["train_main"]


@user_errors(on_stop="the last finished epoch is saved: rerun with --resume to continue")
def train_main(argv=None) -> int:
    """Train the config named by ``-c`` (a file or a shipped config name)."""
    parser = argparse.ArgumentParser(prog="paddle-tricks train", description="Train a model from a YAML config.")
    add_config_arguments(parser)
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue an interrupted run (its own latest checkpoint, or the path given)")
    parser.add_argument("--backup", action="store_true",
                        help="if Global.output_dir holds another run's results, move them to "
                             "<output_dir>.backup-<time> and start a new run there")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="train over N processes (data parallel through paddle.distributed.launch: one per "
                             "GPU, or N sharing the CPU cores); Data.batch_size_is says what the batch size counts")
    args = parser.parse_args(argv)
    check_positive(nproc=args.nproc)
    quiet()
    launching = args.nproc > 1 and not under_launcher()
    if not launching:
        from ..utils.memory import keep_freed_memory
        keep_freed_memory()  # no page re-faulting of activations each step (PADDLE_TRICKS_MALLOC=default: off)
    if not under_launcher():  # a process of a launch is stopped by its launcher
        stop_on_sigterm()
    if launching:
        return _launch(args)
    from ..engine import run_training
    run_training(args.config, args.override, resume=args.resume, backup=args.backup)
    return 0


def _launch(args) -> int:
    """``--nproc N``: check the config here, once, then start N processes of ``paddle-tricks train``."""
    from ..engine.launcher import launch_training
    from ..engine.preflight import check_output_dir
    cfg = load_cli_config(args.config, args.override)
    out = cfg["Global"]["output_dir"]
    check_output_dir(out)
    train_args = ["-c", args.config, *(a for o in args.override for a in ("-o", o))]
    train_args += ["--resume", args.resume] if args.resume else []
    train_args += ["--backup"] if args.backup else []
    return launch_training(args.nproc, out, train_args, verbose=is_verbose())
