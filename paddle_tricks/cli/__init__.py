"""The command line: ``paddle-tricks <command> ...`` (also ``python -m paddle_tricks <command> ...``).

Each command lives in its own module and is imported only when it runs, so ``--help`` stays fast and every
command can silence Paddle before Paddle is loaded. Every command ends a user mistake with one ``error:``
line and exit code 2 (see :func:`paddle_tricks.utils.console.user_errors`).
"""
from __future__ import annotations

import importlib
import os
import sys

from ..utils.console import VERBOSE_SWITCH
from .evaluate import eval_main
from .train import train_main

__all__ = ["main", "train_main", "eval_main", "COMMANDS"]

# command -> (module, function, one-line help)
COMMANDS = {
    "train": ("paddle_tricks.cli.train", "train_main", "train a config (-c FILE or shipped name)"),
    "eval": ("paddle_tricks.cli.evaluate", "eval_main", "evaluate trained weights on the eval set"),
    "export": ("paddle_tricks.cli.export", "export_main", "fuse and export a trained network (Paddle or ONNX)"),
    "infer": ("paddle_tricks.cli.infer", "infer_main", "classify images with a run or an exported model"),
    "compare": ("paddle_tricks.cli.compare", "compare_main", "compare run folders in a table and plots"),
    "ablate": ("paddle_tricks.cli.ablate", "ablate_main", "train a base config and its trick variants, compare"),
    "publish": ("paddle_tricks.cli.publish", "publish_main", "copy a run's text record into docs/results/runs/"),
    "report": ("paddle_tricks.cli.report", "report_main", "regenerate a results page's tables from its records"),
    "prepare-data": ("paddle_tricks.cli.prepare_data", "prepare_data_main", "link or download a dataset"),
    "configs": ("paddle_tricks.cli.configs", "configs_main", "list the shipped configs"),
}


def _usage() -> str:
    lines = ["usage: paddle-tricks [--verbose] <command> [options]   (paddle-tricks <command> --help for its "
             "options)", "", "commands:"]
    lines += [f"  {name:<13} {spec[2]}" for name, spec in COMMANDS.items()]
    lines += ["", f"--verbose (or {VERBOSE_SWITCH}=1) shows Paddle's own warnings and log lines"]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run ``paddle-tricks <command> [options]``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--verbose" in argv:     # for any command, before or after its name; child processes inherit it
        argv.remove("--verbose")
        os.environ[VERBOSE_SWITCH] = "1"
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        import difflib
        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        print(f"error: unknown command '{name}'; {hint}commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[name]
    return getattr(importlib.import_module(module), function)(rest)
