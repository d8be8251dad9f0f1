"""``HardSigmoid``: the piecewise-linear sigmoid of MobileNetV3, the package's one hard sigmoid.

Paper: Howard et al., "Searching for MobileNetV3", ICCV 2019, arXiv 1905.02244: ``relu6(x + 3) / 6``.
PaddleClas's MobileNetV3 uses ``clip(0.2 x + 0.5, 0, 1)`` instead (``paddle_hard_sigmoid``).

Difference from ``nn.Hardsigmoid``: that layer's default slope is the rounded 0.1666667; this one computes
``relu6(6·slope·x + 6·offset) / 6``, which for the default slope 1/6 and offset 1/2 is ``relu6(x + 3) / 6``
exactly (no multiplication by a rounded slope).
"""
from __future__ import annotations

import paddle.nn as nn
import paddle.nn.functional as F

from .create_act import register_act

__all__ = ["HardSigmoid"]


@register_act("hard_sigmoid")
@register_act("paddle_hard_sigmoid", slope=0.2, offset=0.5)
class HardSigmoid(nn.Layer):
    """``clip(slope · x + offset, 0, 1)``.

    Args:
        slope: slope of the linear part (1/6: MobileNetV3; 0.2: PaddleClas).
        offset: value at ``x = 0``.
    """

    def __init__(self, slope: float = 1.0 / 6.0, offset: float = 0.5):
        super().__init__()
        self.slope, self.offset = slope, offset
        self.scale, self.shift = 6.0 * slope, 6.0 * offset

    def forward(self, x):
        if self.scale != 1.0:
            x = x * self.scale
        return F.relu6(x + self.shift) / 6.0

    def extra_repr(self) -> str:
        return f"slope={self.slope:.4g}, offset={self.offset}"
