"""``RunLock``: a training run holds its folder, so a second run aimed at it stops at once instead of mixing files.

The lock is ``fcntl.flock`` on the folder itself (POSIX): the kernel releases it when the process ends, however
it ends (``SIGKILL`` included), so a killed run never leaves a stale lock, and nothing in the folder has to be
deleted to release it. While it holds the lock, the process keeps its pid, host and start time in
``run.lock``, which a refused process names; the file is removed when the lock is released, so a run that only
looked (a resume of a finished run) leaves its folder as it found it. Locks are re-entrant within one process
(``run_training`` takes it, then ``Trainer.fit`` again).
"""
from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket

from ..errors import UserError
from . import run_files

__all__ = ["RunLock", "RunFolderBusy"]

_HELD: dict[str, list] = {}      # real path of a held folder -> [fd, depth], for this process


class RunFolderBusy(UserError):
    """Another process is training in this folder."""


class RunLock:
    """Hold ``output_dir`` for this process while the ``with`` block runs (the folder is created if needed).

    Raises ``RunFolderBusy`` naming the holder (pid, host, start time) when another process holds it.
    """

    def __init__(self, output_dir: str):
        self.out = output_dir
        self.path = os.path.join(output_dir, run_files.LOCK)

    def __enter__(self) -> "RunLock":
        os.makedirs(self.out, exist_ok=True)
        key = os.path.realpath(self.out)
        if key in _HELD:
            _HELD[key][1] += 1
            return self
        fd = os.open(self.out, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunFolderBusy(f"{os.path.abspath(self.out)} is in use by another training run "
                                f"({_read_holder(self.path)}); wait for it to end, or choose another "
                                f"Global.output_dir") from None
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": started}, f)
        _HELD[key] = [fd, 1]
        return self

    def __exit__(self, *exc) -> None:
        key = os.path.realpath(self.out)
        held = _HELD.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del _HELD[key]
            try:
                os.remove(self.path)
            except OSError:
                pass
            os.close(held[0])        # closing the descriptor releases the lock


def _read_holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
