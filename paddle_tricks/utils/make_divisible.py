"""Channel rounding rules used by the MobileNet-family width multipliers.

Two rules exist in the official code bases and they give different widths:

* ``make_divisible`` is the MobileNetV2/V3 rule (TF ``_make_divisible``): round to the *nearest*
  multiple of ``divisor``, but never below ``min_value`` nor more than 10 % below ``value``.
* ``ceil_divisible`` rounds *up* to a multiple of ``divisor``; AsymmNet's official code
  (``Spark001/AsymmNet``) uses it for every width, including its SE bottlenecks.
"""
from __future__ import annotations

import math

__all__ = ["make_divisible", "ceil_divisible"]


def _check_divisor(divisor: int) -> None:
    if divisor < 1:
        raise ValueError(f"divisor must be a positive integer, got {divisor}")


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Nearest multiple of ``divisor`` to ``value`` that is at least ``min_value`` and ≥ 0.9·``value``.

    Args:
        value: the unrounded channel count (e.g. ``32 * width_mult``).
        divisor: the multiple to round to.
        min_value: the smallest allowed result; ``divisor`` when ``None``.
    """
    _check_divisor(divisor)
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not remove more than 10 %
        rounded += divisor
    return rounded


def ceil_divisible(value: float, divisor: int = 8) -> int:
    """Smallest multiple of ``divisor`` that is ≥ ``value`` (AsymmNet's ``make_divisible``).

    Args:
        value: the unrounded channel count.
        divisor: the multiple to round up to.
    """
    _check_divisor(divisor)
    return int(math.ceil(value / divisor) * divisor)
