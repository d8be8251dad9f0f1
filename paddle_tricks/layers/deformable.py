"""Deformable convolution v1 / v2 (modulated) on top of ``paddle.vision.ops.DeformConv2D``.

Papers: Dai J. et al., "Deformable Convolutional Networks", ICCV 2017, arXiv 1703.06211 (v1);
Zhu X., Hu H., Lin S., Dai J., "Deformable ConvNets v2: More Deformable, Better Results", CVPR 2019,
arXiv 1811.11168 (v2). Official code: ``msracver/Deformable-ConvNets`` (MXNet, ``DCNv2_op/``).

The sampling offsets (and, for v2, the modulation mask) are predicted from the input by a plain conv with
the same kernel size, stride, padding and dilation as the deformable conv, producing ``2·k²·dg`` offset
channels (``k²·dg`` mask channels). As in the official code, that conv's **weight and bias start at zero**,
so a fresh layer samples the regular grid: v1 then equals an ordinary convolution.

Mask activation: ``sigmoid``, as in the v2 paper, mmcv and torchvision (initial mask 0.5, so a fresh v2
layer outputs exactly half of the plain convolution). The official MXNet example uses ``2·sigmoid``
(initial mask 1.0); we follow the paper because it is the published definition and what the common
re-implementations (whose pretrained weights people load) compute. ``offset_lr_mult`` scales the learning
rate of the offset/mask conv (the official v2 example uses 0.1; the default 1.0 leaves it unchanged).

Differences: the offset and mask are predicted by two separate convs (``offset_conv``, ``mask_conv``)
instead of one conv with ``3·k²·dg`` outputs; the two forms are equivalent.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.vision.ops import DeformConv2D
from .surgery_leaf import SurgeryLeaf

__all__ = ["DeformableConv"]


class DeformableConv(SurgeryLeaf, nn.Layer):
    """A ``k×k`` deformable convolution whose offsets (and mask) are predicted from its input.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel size.
        stride: stride (also of the offset/mask conv).
        padding: padding; ``None`` gives ``dilation * (kernel_size - 1) // 2``.
        dilation: dilation.
        groups: groups of the main convolution.
        deformable_groups: number of offset groups ``dg`` (the channels are split into ``dg`` groups
            that each get their own offsets).
        modulated: ``True`` for DCNv2 (learned modulation mask), ``False`` for DCNv1.
        bias: add a learnable bias to the main convolution (off by default: a BN usually follows).
        offset_lr_mult: learning-rate multiplier of the offset/mask convolutions.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, dilation: int = 1, groups: int = 1, deformable_groups: int = 1,
                 modulated: bool = False, bias: bool = False, offset_lr_mult: float = 1.0):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"DeformableConv: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if deformable_groups < 1 or in_channels % deformable_groups:
            raise ValueError(f"DeformableConv: deformable_groups={deformable_groups} must divide "
                             f"in_channels={in_channels}")
        if kernel_size < 1 or stride < 1 or dilation < 1:
            raise ValueError(f"DeformableConv: kernel_size, stride and dilation must be >= 1, got "
                             f"{kernel_size}, {stride}, {dilation}")
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        self.modulated = modulated
        self.kernel_size = kernel_size
        k2 = kernel_size * kernel_size

        def zero_conv(out: int) -> nn.Conv2D:
            attr = dict(initializer=nn.initializer.Constant(0.0), learning_rate=offset_lr_mult)
            return nn.Conv2D(in_channels, out, kernel_size, stride=stride, padding=padding, dilation=dilation,
                             weight_attr=paddle.ParamAttr(**attr), bias_attr=paddle.ParamAttr(**attr))

        self.offset_conv = zero_conv(2 * deformable_groups * k2)
        self.mask_conv = zero_conv(deformable_groups * k2) if modulated else None
        self.conv = DeformConv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                 dilation=dilation, deformable_groups=deformable_groups, groups=groups,
                                 bias_attr=None if bias else False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        offset = self.offset_conv(x)
        mask = F.sigmoid(self.mask_conv(x)) if self.mask_conv is not None else None
        return self.conv(x, offset, mask)

    def extra_repr(self) -> str:
        return f"modulated={self.modulated}"
