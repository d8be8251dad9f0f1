"""``ConvBNAct``: the conv → BatchNorm → activation unit every backbone of the zoo is built from.

Backbones build their convolutions through this one layer so that tricks can be switched on
for a whole network by swapping its parts (``.conv``, ``.bn``, ``.act``), see ``paddle_tricks.tricks``.
"""
from __future__ import annotations

from typing import Callable

import paddle.nn as nn

__all__ = ["ConvBNAct", "make_act"]

_ACTS: dict[str, Callable[[], nn.Layer]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "hardswish": nn.Hardswish,
    "hswish": nn.Hardswish,
    "swish": nn.Swish,
    "silu": nn.Silu,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "mish": nn.Mish,
    "gelu": nn.GELU,
}


def make_act(act: str | Callable[[], nn.Layer] | None) -> nn.Layer:
    """An activation layer from a name (``'relu'``, ``'hswish'``, ...), a factory, or ``None`` (identity)."""
    if act is None or act is False:
        return nn.Identity()
    if isinstance(act, str):
        key = act.lower()
        if key not in _ACTS:
            raise ValueError(f"unknown activation '{act}'; choose one of {sorted(_ACTS)}")
        return _ACTS[key]()
    return act()


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
        act: activation name, factory or ``None``.
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
        self.act = make_act(act)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))
