"""Selective Kernel convolution (SK unit's split-fuse-select operator).

Paper: Li X., Wang W., Hu X., Yang J., "Selective Kernel Networks", CVPR 2019, arXiv 1903.06586.
Official model: ``implus/SKNet`` (``models/sknet50.prototxt``, Caffe).

Following the official SKNet-50 prototxt:

* **split**: ``M`` branches of 3x3 grouped convolutions, branch ``i`` with dilation ``i + 1`` (the
  dilated 3x3 stands in for the paper's 5x5), each followed by BN and ReLU; the stride sits on the branches;
* **fuse**: ``U = sum_i U_i``, global average pooling, then a 1x1 "FC" to ``d = max(C / r, L)`` channels
  (``r = 16``, ``L = 32``), BN and ReLU (no bias in either FC, as in the prototxt);
* **select**: a 1x1 "FC" to ``M * C`` channels, reshaped to ``(B, M, C)``, a softmax over the **branch
  axis**, and ``V = sum_i a_i * U_i``.

``use_dilation=False`` gives the paper's literal kernels (3x3, 5x5, ...) instead of dilated 3x3s.
"""
from __future__ import annotations

from typing import Callable

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .conv_bn import ConvBNAct
from .surgery_leaf import SurgeryLeaf

__all__ = ["SKConv"]


class SKConv(SurgeryLeaf, nn.Layer):
    """Selective Kernel convolution: several receptive fields, mixed by a softmax attention per channel.

    Args:
        in_channels: input channels.
        out_channels: output channels ``C`` (defaults to ``in_channels``).
        stride: stride of every branch.
        num_branches: number of branches ``M`` (paper: 2).
        groups: groups of each branch convolution (SKNet-50: 32).
        reduction: reduction ratio ``r`` of the fuse FC.
        min_dim: lower bound ``L`` of the fuse width ``d = max(C // r, L)``.
        use_dilation: branch ``i`` is a 3x3 with dilation ``i + 1`` (official) rather than a
            ``(3 + 2i)``x``(3 + 2i)`` kernel (paper text).
        act: activation of the branches and of the fuse FC.

    Attributes:
        record_attention: when True, forward keeps the selection weights ``(B, M, C)`` in ``last_attention``.
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, stride: int = 1,
                 num_branches: int = 2, groups: int = 32, reduction: int = 16, min_dim: int = 32,
                 use_dilation: bool = True, act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        out_channels = out_channels or in_channels
        if num_branches < 1:
            raise ValueError(f"SKConv: num_branches={num_branches} must be at least 1")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"SKConv: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.num_branches = num_branches
        self.out_channels = out_channels
        self.branches = nn.LayerList()
        for i in range(num_branches):
            if use_dilation:
                k, dil = 3, i + 1
            else:
                k, dil = 3 + 2 * i, 1
            self.branches.append(ConvBNAct(in_channels, out_channels, k, stride=stride, groups=groups,
                                           dilation=dil, act=act))
        self.dim = max(out_channels // reduction, min_dim)
        self.fc = ConvBNAct(out_channels, self.dim, 1, act=act)
        self.fc_select = nn.Conv2D(self.dim, num_branches * out_channels, 1, bias_attr=False)
        self.record_attention = False
        self.last_attention = None

    def _attend(self, feats: list[paddle.Tensor]) -> paddle.Tensor:
        u = paddle.add_n(feats) if len(feats) > 1 else feats[0]
        z = self.fc(u.mean(axis=[2, 3], keepdim=True))
        logits = self.fc_select(z).reshape([-1, self.num_branches, self.out_channels])
        return F.softmax(logits, axis=1)

    def attention(self, x: paddle.Tensor) -> paddle.Tensor:
        """The selection weights ``(B, M, C)`` for input ``x``; they sum to one over ``M``."""
        return self._attend([b(x) for b in self.branches])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        feats = [b(x) for b in self.branches]
        a = self._attend(feats)
        if self.record_attention:
            object.__setattr__(self, "last_attention", a.detach())
        stacked = paddle.stack(feats, axis=1)  # (B, M, C, H, W)
        return (stacked * a.reshape([-1, self.num_branches, self.out_channels, 1, 1])).sum(axis=1)

    def extra_repr(self) -> str:
        return f"branches={self.num_branches}, out_channels={self.out_channels}, d={self.dim}"
