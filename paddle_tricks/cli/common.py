"""What the subcommands share: the ``-c``/``-o`` arguments and how a config is named."""
from __future__ import annotations

import argparse
import os

from ..errors import UserError

__all__ = ["add_config_arguments", "load_cli_config", "check_positive", "check_output_file"]


def add_config_arguments(parser: argparse.ArgumentParser, run_folder: bool = False, required: bool = True) -> None:
    """``-c CONFIG`` (a file, a shipped config name, or with ``run_folder`` a run folder) and ``-o``."""
    what = "a YAML file, a shipped config name (`paddle-tricks configs` lists them)"
    what += ", or a run folder (its saved config.yaml, output_dir = that folder)" if run_folder else ""
    parser.add_argument("-c", "--config", required=required, help=what)
    parser.add_argument("-o", "--override", action="append", default=[], metavar="Section.key=value",
                        help="override a config value (YAML syntax); repeatable")


def load_cli_config(name: str, overrides: list[str], run_folder: bool = False) -> dict:
    """The validated config named by ``-c``: a run folder (when allowed), a file, or a shipped name."""
    from ..config import load_config
    from ..configs import resolve_config
    from ..infer.run_folder import is_run_folder, load_run_config
    if run_folder and is_run_folder(name):
        return load_run_config(name, overrides)
    return load_config(resolve_config(name), overrides)


def check_positive(**values) -> None:
    """Each keyword is an option name without dashes; a value below 1 is a ``UserError``."""
    for key, value in values.items():
        if value is not None and value < 1:
            raise UserError(f"--{key.replace('_', '-')} must be a positive integer, got {value}")


def check_output_file(path: str | None, option: str, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, an output file whose folder is missing, or that is a folder."""
    if path is None:
        return
    if suffixes and not path.lower().endswith(suffixes):
        raise UserError(f"{option} {path}: the file name must end in {' or '.join(suffixes)}")
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise UserError(f"{option} {full} is a folder; give a file name")
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        what = "is a file" if os.path.exists(folder) else "does not exist"
        raise UserError(f"{option} {full}: the folder {folder} {what}; create it first or choose another path")
