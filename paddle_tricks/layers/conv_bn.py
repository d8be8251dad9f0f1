"""``ConvBNAct``: the conv → BatchNorm → activation unit every backbone of the zoo is built from.

Backbones build their convolutions through this one layer so that tricks can be switched on
for a whole network by swapping its parts (``.conv``, ``.bn``, ``.act``), see ``paddle_tricks.tricks``.
"""
from __future__ import annotations

from typing import Callable

import paddle.nn as nn

from .create_act import create_act

__all__ = ["ConvBNAct"]


class ConvBNAct(nn.Layer):
    """Conv2D (no bias) → BatchNorm2D → activation, with 'same' padding by default.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel size.
        stride: stride of the convolution.
        padding: explicit padding; ``None`` gives ``dilation * (kernel_size - 1) // 2``.
        groups: convolution groups (``groups == in_channels`` for depthwise).
        dilation: dilation of the kernel.
        act: activation name (see :func:`~paddle_tricks.layers.create_act.create_act`; channel-wise ones
            get ``out_channels``), factory or ``None``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1, dilation: int = 1,
                 act: str | Callable[[], nn.Layer] | None = "relu"):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvBNAct: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                              groups=groups, dilation=dilation, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_channels)
        self.act = create_act(act, channels=out_channels)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))
