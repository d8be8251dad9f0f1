"""Split-Attention convolution of ResNeSt.

Paper: Zhang H. et al., "ResNeSt: Split-Attention Networks", arXiv 2004.08955 (2020; CVPR Workshops 2022).
Official code: ``zhanghang1989/ResNeSt`` (``resnest/torch/models/splat.py``).

Behaviour follows ``SplAtConv2d``:

* one convolution with ``channels * radix`` outputs and ``groups = cardinality * radix``, then BN, ReLU;
* the ``radix`` splits are summed, globally average pooled, passed through ``fc1`` (1x1, groups =
  cardinality) to ``inter = max(in_channels * radix // reduction, 32)`` channels, BN, ReLU, and ``fc2``
  (1x1, groups = cardinality, with bias) back to ``channels * radix``;
* **rSoftmax**: reshape to ``(B, cardinality, radix, -1)``, swap the two middle axes and take a softmax
  over ``radix`` (a sigmoid when ``radix == 1``); the output is ``sum_r att_r * split_r``.

Difference: ``fc1`` has no bias here (it is built with ``ConvBNAct``); the official ``fc1`` has one, but a
bias directly before BatchNorm is cancelled by the normalisation, so the function class is the same and
the parameter count is lower by ``inter`` per layer. The rectified convolution (``rfconv``) and the
DropBlock inside the official layer are not included.
"""
from __future__ import annotations

from typing import Callable

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .conv_bn import ConvBNAct
from .surgery_leaf import SurgeryLeaf

__all__ = ["RSoftmax", "SplitAttention"]


class RSoftmax(SurgeryLeaf, nn.Layer):
    """Radix softmax: softmax over the radix splits within each cardinal group (sigmoid for radix 1).

    Maps ``(B, channels * radix, 1, 1)`` logits laid out as ``(cardinality, radix, channels / cardinality)``
    to weights ``(B, radix, channels)`` whose splits line up with the convolution's output splits.

    Args:
        radix: number of splits per cardinal group.
        cardinality: number of cardinal groups.
    """

    def __init__(self, radix: int, cardinality: int):
        super().__init__()
        self.radix = radix
        self.cardinality = cardinality

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        # shape 0 = "copy the batch size", which keeps the layer exportable with a dynamic batch
        if self.radix > 1:
            x = x.reshape([0, self.cardinality, self.radix, -1]).transpose([0, 2, 1, 3])
            x = F.softmax(x, axis=1)
            return x.reshape([0, self.radix, -1])
        return F.sigmoid(x).reshape([0, 1, -1])


class SplitAttention(SurgeryLeaf, nn.Layer):
    """Split-Attention convolution (``SplAtConv2d``).

    Args:
        in_channels: input channels.
        channels: output channels.
        kernel_size: kernel of the main convolution.
        stride: its stride.
        padding: its padding (``None``: ``dilation * (kernel_size - 1) // 2``).
        dilation: its dilation.
        cardinality: cardinal groups ``K``.
        radix: splits per group ``R`` (``R = 1`` gives an SE-like sigmoid gate).
        reduction: reduction factor of ``fc1`` (official: 4).
        min_inter: lower bound of the ``fc1`` width (official: 32).
        act: activation after the main convolution and ``fc1``.

    Attributes:
        record_attention: when True, forward keeps the weights ``(B, radix, channels)`` in ``last_attention``.
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, dilation: int = 1, cardinality: int = 1, radix: int = 2,
                 reduction: int = 4, min_inter: int = 32, act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        if radix < 1 or cardinality < 1:
            raise ValueError(f"SplitAttention: radix={radix} and cardinality={cardinality} must be >= 1")
        groups = cardinality * radix
        if in_channels % groups or channels % cardinality:
            raise ValueError(f"SplitAttention: cardinality*radix={groups} must divide in_channels={in_channels} "
                             f"and cardinality={cardinality} must divide channels={channels}")
        inter = max(in_channels * radix // reduction, min_inter)
        if inter % cardinality:
            raise ValueError(f"SplitAttention: cardinality={cardinality} must divide the fc1 width {inter}")
        self.radix = radix
        self.cardinality = cardinality
        self.channels = channels
        self.inter_channels = inter
        self.conv = ConvBNAct(in_channels, channels * radix, kernel_size, stride=stride, padding=padding,
                              groups=groups, dilation=dilation, act=act)
        self.fc1 = ConvBNAct(channels, inter, 1, groups=cardinality, act=act)
        self.fc2 = nn.Conv2D(inter, channels * radix, 1, groups=cardinality)
        self.rsoftmax = RSoftmax(radix, cardinality)
        self.record_attention = False
        self.last_attention = None

    def _attend(self, x: paddle.Tensor) -> tuple[list[paddle.Tensor], paddle.Tensor]:
        splits = paddle.split(x, self.radix, axis=1) if self.radix > 1 else [x]
        u = paddle.add_n(splits) if self.radix > 1 else x
        att = self.rsoftmax(self.fc2(self.fc1(u.mean(axis=[2, 3], keepdim=True))))  # (B, radix, channels)
        return splits, att

    def attention(self, x: paddle.Tensor) -> paddle.Tensor:
        """The weights ``(B, radix, channels)`` for input ``x`` (sum to one over radix when radix > 1)."""
        return self._attend(self.conv(x))[1]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        splits, att = self._attend(self.conv(x))
        if self.record_attention:
            object.__setattr__(self, "last_attention", att.detach())
        outs = [s * att[:, r].unsqueeze([2, 3]) for r, s in enumerate(splits)]
        return paddle.add_n(outs) if len(outs) > 1 else outs[0]

    def extra_repr(self) -> str:
        return f"radix={self.radix}, cardinality={self.cardinality}, inter={self.inter_channels}"
