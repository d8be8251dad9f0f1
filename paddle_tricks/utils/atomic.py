"""Atomic file writes: a temporary file in the same folder, flushed to disk, then ``os.replace``.

A crash, a ``SIGKILL`` or a full disk during a write leaves the previous file intact; the only trace is a
hidden temporary file (``.<name>.tmp<pid>``), which ``remove_stale_temps`` deletes when the next run starts.
"""
from __future__ import annotations

import errno
import json
import os
import re

from ..errors import CheckpointError

__all__ = ["atomic_write", "atomic_write_text", "write_json", "remove_stale_temps", "temp_files"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp(?P<pid>\d+)$")


def _fsync(path: str) -> None:
    """Push ``path`` (a file or a folder) to the disk; a no-op where the OS does not allow it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write, before_replace=None) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``.

    A failure leaves the previous ``path`` intact and removes the temporary file; a disk error is a
    ``CheckpointError`` naming the file. ``before_replace`` runs just before the rename (test hook).
    """
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        write(tmp)
        _fsync(tmp)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
        _fsync(folder)
    except OSError as e:
        _remove_quietly(tmp)
        reason = e.strerror or str(e) or type(e).__name__
        hint = ("free disk space or choose another Global.output_dir"
                if e.errno in (errno.ENOSPC, errno.EDQUOT, None) else "check the folder's permissions")
        raise CheckpointError(f"could not write {path} ({reason}); the previous file is kept. "
                              f"To continue: {hint}, then rerun with --resume") from None
    except BaseException:  # a bug or an interrupt while writing: never leave the temporary file behind
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_files(folder: str) -> list[str]:
    """The temporary files of unfinished atomic writes in ``folder`` (any process)."""
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if _TEMP.match(f))


def remove_stale_temps(folder: str, names) -> list[str]:
    """Delete the temporary files that a killed process left in ``folder`` while writing one of ``names``;
    returns their paths.

    A temporary file is stale when the process that wrote it (its name ends in that process's id) is gone.
    Only temporaries of the given file names are touched: a ``.notes.tmp123`` of the user's stays.
    """
    names = set(names)
    removed = []
    for path in temp_files(folder):
        match = _TEMP.match(os.path.basename(path))
        if match.group("name") in names and not _pid_alive(int(match.group("pid"))):
            _remove_quietly(path)
            removed.append(path)
    return removed


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    atomic_write(path, write)


def write_json(obj, path: str) -> None:
    """JSON file written atomically."""
    atomic_write_text(json.dumps(obj, indent=2), path)
