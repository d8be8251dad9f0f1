"""Paths the user asked a tool to write: checked before any work starts, written whole or not at all."""
from __future__ import annotations

import os

from ..errors import UserError

__all__ = ["check_folder_target", "write_whole"]


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


def write_whole(text: str, path: str, option: str = "--out") -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename; a disk or permission error is one
    ``UserError`` that names the file and says what to do."""
    from .atomic import atomic_write_text
    try:
        atomic_write_text(text, path)
    except UserError:
        raise UserError(f"could not write {os.path.abspath(path)} (disk full or no permission); nothing was "
                        f"written. Free space or choose another {option}") from None
