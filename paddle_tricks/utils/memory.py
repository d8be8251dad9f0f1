"""Keep freed memory in the process, so the next training step does not fault it back in page by page.

Paddle's CPU allocator takes each large activation buffer from ``malloc``, and glibc serves blocks of
128 KiB and more with ``mmap`` and unmaps them on ``free``: every step then faults its activations in again
(80-100 k minor page faults, about 0.4 GB, per step for MobileNetV2 at 112 px, batch 32). Turning off
``mmap`` for large blocks and trimming of the heap (``mallopt(3)``: ``M_MMAP_MAX`` 0, ``M_TRIM_THRESHOLD`` -1)
keeps the memory mapped after the first step; the process holds on to its peak heap.
``benchmarks/bench_memory.py`` measures the faults and the step time with and without.

``PADDLE_TRICKS_MALLOC=default`` leaves glibc's defaults alone.
"""
from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory", "MALLOC_SWITCH"]

MALLOC_SWITCH = "PADDLE_TRICKS_MALLOC"

# <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Stop glibc from returning freed memory to the OS; call it once at start-up, before big allocations.

    Returns whether it was done: not with ``PADDLE_TRICKS_MALLOC=default``, nor off Linux/glibc.
    """
    if os.environ.get(MALLOC_SWITCH, "").strip().lower() == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # both return 1 on success; musl's stub returns 0
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, -1) == 1
