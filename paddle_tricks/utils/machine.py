"""What machine a figure was measured on: the CPU's model name with its widest vector instruction set, and one
line with cores, OS, Python and Paddle versions for records and result pages.

The model name alone is not enough: these machines report only ``AMD EPYC`` or ``Intel(R) Xeon(R) Processor``,
and two CPUs of one name can differ in their vector instructions, by which oneDNN picks its kernels.
"""
from __future__ import annotations

import os
import platform

__all__ = ["vector_isa", "cpu_model", "machine_info"]


def vector_isa(flags: set[str]) -> str | None:
    """The widest SIMD instruction set among a CPU's ``flags`` (from ``/proc/cpuinfo``): ``AVX-512``, ``AVX2`` or
    ``AVX``; None for none of them."""
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")):
        if flag in flags:
            return name
    return None


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The first CPU's model name and, in brackets, its widest vector instruction set (``AMD EPYC (AVX2)``);
    ``platform.processor()`` or ``unknown CPU`` where ``cpuinfo`` cannot be read or names no model."""
    name, flags = "", set()
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
                if name and flags:
                    break
    except OSError:
        pass
    name = name or platform.processor() or "unknown CPU"
    isa = vector_isa(flags)
    return f"{name} ({isa})" if isa else name


def machine_info() -> str:
    """CPU model (:func:`cpu_model`), core count, OS, Python and Paddle versions, in one line."""
    try:
        import paddle
        pv = paddle.__version__
    except ImportError:  # pragma: no cover
        pv = "?"
    return (f"{cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, Paddle {pv}")
