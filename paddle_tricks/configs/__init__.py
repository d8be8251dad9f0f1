"""The shipped YAML configs, installed with the package, named by their path below this folder.

``resolve_config("caltech16/asymmnet_large")`` gives the installed file (``.yaml`` optional, a leading
``configs/`` too); a path to an existing file is returned unchanged. ``list_configs()`` lists the names.
Files whose name starts with ``_`` are bases for ``_base_`` inheritance, not runnable configs.
"""
from __future__ import annotations

import difflib
import os

from ..errors import ConfigError

__all__ = ["CONFIG_DIR", "list_configs", "resolve_config", "describe_config"]

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))


def list_configs() -> list[str]:
    """Names of the runnable shipped configs (``quickstart``, ``caltech16/asymmnet_large``, ...), sorted."""
    names = []
    for folder, _, files in os.walk(CONFIG_DIR):
        for f in files:
            if f.endswith(".yaml") and not f.startswith("_"):
                rel = os.path.relpath(os.path.join(folder, f), CONFIG_DIR)
                names.append(rel[:-len(".yaml")].replace(os.sep, "/"))
    return sorted(names)


def describe_config(name: str) -> str:
    """The first comment line of a shipped config (its one-line description), or ``''``."""
    with open(resolve_config(name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                return line.lstrip("#").strip()
            if line.strip():
                return ""
    return ""


def resolve_config(name: str) -> str:
    """The file of config ``name``: an existing path as given, else the shipped config of that name.

    Raises:
        ConfigError: neither a file nor a shipped config; names the closest shipped config.
    """
    if os.path.isfile(name):
        return name
    short = name.replace(os.sep, "/")
    short = short[len("configs/"):] if short.startswith("configs/") else short
    short = short[:-len(".yaml")] if short.endswith(".yaml") else short
    shipped = os.path.join(CONFIG_DIR, *short.split("/")) + ".yaml"
    if short and ".." not in short.split("/") and os.path.isfile(shipped):
        return shipped
    if os.path.isdir(name):
        raise ConfigError(f"config file not found: {name} is a folder (a run folder needs its config.yaml)")
    close = difflib.get_close_matches(short, list_configs(), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ConfigError(f"config file not found: {name}; {hint}`paddle-tricks configs` lists the shipped configs")
