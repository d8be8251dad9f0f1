"""DataLoader worker processes that end when the training process dies.

Paddle's worker loop looks at its parent only between batches (``ParentWatchDog``), so after the trainer is
killed with SIGKILL its workers can stay blocked, adopted by init, holding memory and ``/dev/shm`` segments.
On Linux, ``prctl(PR_SET_PDEATHSIG)`` (see ``man 2 prctl``) asks the kernel to send the worker a signal when
its parent dies. SIGTERM is used: Paddle's worker handler for it removes the worker's shared-memory files
before exiting, which SIGKILL would not allow.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["exit_with_parent"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def exit_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies (call it first thing in a worker).

    ``parent_pid`` is the pid the worker was started from: if that parent is already gone when this runs,
    the signal is sent at once. Returns False where ``prctl`` is not available (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os.kill(os.getpid(), sig)
    return True
