"""Use every CPU core for Paddle's math, without Paddle's ``OMP_NUM_THREADS`` warning.

``import paddle`` sets ``OMP_NUM_THREADS=1`` when it is unset, and prints a warning when it is above 1
(``paddle/base/__init__.py``, ``__bootstrap__``). So the count is not passed through that variable: it is
removed before Paddle loads, and right after it loads ``paddle.base.core.set_num_threads(n)`` (MKL's and
OpenMP's threads) gives the n wanted.

The count is ``PADDLE_TRICKS_NUM_THREADS``, else an ``OMP_NUM_THREADS`` the user set, else the number of cores
divided among the processes of a ``paddle.distributed.launch`` on this machine (``PADDLE_LOCAL_SIZE``; their
``OMP_NUM_THREADS=1`` comes from the launcher's own ``import paddle``). It is kept in
``PADDLE_TRICKS_NUM_THREADS`` so child processes (``ablate`` runs) inherit it.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

__all__ = ["use_all_cores", "wanted_threads", "set_paddle_threads", "THREADS_SWITCH"]

THREADS_SWITCH = "PADDLE_TRICKS_NUM_THREADS"


def wanted_threads() -> int:
    """The number of threads Paddle should use in this process (see the module docstring)."""
    local_processes = os.environ.get("PADDLE_LOCAL_SIZE", "").strip()
    launched = local_processes.isdigit() and int(local_processes) > 0
    for name in (THREADS_SWITCH, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if not (value.isdigit() and int(value) > 0):
            continue
        # Paddle writes OMP_NUM_THREADS=1 when it loads; the launcher loads it, and its workers inherit that
        if name == "OMP_NUM_THREADS" and launched and value == "1":
            continue
        return int(value)
    return max(1, (os.cpu_count() or 1) // (int(local_processes) if launched else 1))


def use_all_cores() -> int | None:
    """Make Paddle use ``wanted_threads()`` threads as soon as it loads; returns that number.

    If Paddle was loaded first, its thread count (from ``OMP_NUM_THREADS`` then) is left alone, unless
    ``PADDLE_TRICKS_NUM_THREADS`` asks for another; ``None`` when nothing was set."""
    if "paddle" in sys.modules:
        if THREADS_SWITCH not in os.environ:
            return None
        n = wanted_threads()
        set_paddle_threads(sys.modules["paddle"], n)
        return n
    n = wanted_threads()
    os.environ[THREADS_SWITCH] = str(n)
    os.environ.pop("OMP_NUM_THREADS", None)
    if not any(isinstance(finder, _AfterPaddleLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterPaddleLoads(n))
    return n


def set_paddle_threads(paddle, n: int) -> None:
    """Set the math threads (MKL, OpenMP) of the loaded ``paddle`` module to ``n``."""
    core = getattr(getattr(paddle, "base", None), "core", None)
    if hasattr(core, "set_num_threads"):
        core.set_num_threads(n)


class _AfterPaddleLoads(importlib.abc.MetaPathFinder):
    """Finds ``paddle`` with the other finders, and sets the thread count once its module has run."""

    def __init__(self, n: int):
        self.n = n

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "paddle":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run_module, n = spec.loader.exec_module, self.n

        def exec_module(module):
            run_module(module)
            set_paddle_threads(module, n)
        spec.loader.exec_module = exec_module
        return spec
