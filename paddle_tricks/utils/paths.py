"""Checks on a path the user asked a tool to write, made before any work starts."""
from __future__ import annotations

import os

from ..errors import UserError

__all__ = ["check_folder_target"]


def check_folder_target(path: str, option: str) -> str:
    """The absolute ``path`` of a folder to create or fill; a file on the way is a ``UserError``.

    Args:
        path: the folder (it may not exist yet, nor its parents).
        option: the command-line option that named it, for the message (``--out``).
    """
    full = os.path.abspath(path)
    if os.path.isfile(full):
        raise UserError(f"{option} {full} is an existing file; give a folder path (it is created)")
    probe = os.path.dirname(full)
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        raise UserError(f"{option} {full} lies under {probe}, which is a file; choose another {option}")
    return full
