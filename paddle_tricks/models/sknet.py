"""SKNet-50: a ResNeXt-50 (32x4d) whose grouped 3x3 convolutions are Selective Kernel convolutions.

Paper: Li X., Wang W., Hu X., Yang J., "Selective Kernel Networks", CVPR 2019, arXiv 1903.06586.
Official model: ``implus/SKNet`` (``models/sknet50.prototxt``). Each bottleneck is
1x1 reduce → ``SKConv`` (3x3 g32 + 3x3 g32 dilation 2, d = max(C/16, 32), stride on both branches) →
1x1 expand, with projection shortcuts (1x1 stride-s conv + BN) where the shape changes. The official
model has 27.5 M parameters; this one has 27.48 M (ImageNet head). The differences from the prototxt: the
stem max-pool pads by one pixel (Caffe's ceil-mode pooling without padding gives the same 56x56 output) and
the classifier head is a ``paddle.nn.Linear``.
"""
from __future__ import annotations

from typing import Callable

import paddle.nn as nn

from ..layers.sk import SKConv
from .registry import IMAGENET, register_model
from .options import signature_options
from .resnet import Bottleneck, ResNet

__all__ = ["SKBottleneck", "sknet50"]


class SKBottleneck(Bottleneck):
    """ResNeXt bottleneck with an ``SKConv`` in place of the grouped 3x3.

    Args:
        in_channels: input channels.
        planes: bottleneck planes; output is ``4 * planes``.
        stride: stride of the SK branches.
        downsample: shortcut layer, ``None`` for identity.
        groups: groups of each SK branch (32 in SKNet-50).
        base_width: width per group (4 in SKNet-50).
        attn_layer: optional extra attention after the last BN.
        act: activation name or factory.
        num_branches: SK branches ``M``.
        reduction: SK reduction ratio ``r``.
        min_dim: SK lower bound ``L``.
    """

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Layer | None = None,
                 groups: int = 32, base_width: int = 4, attn_layer=None,
                 act: str | Callable[[], nn.Layer] = "relu", num_branches: int = 2, reduction: int = 16,
                 min_dim: int = 32):
        self._sk_options = dict(num_branches=num_branches, reduction=reduction, min_dim=min_dim)
        super().__init__(in_channels, planes, stride=stride, downsample=downsample, groups=groups,
                         base_width=base_width, attn_layer=attn_layer, act=act)

    def _make_conv2(self, width: int, stride: int, groups: int, act) -> nn.Layer:
        return SKConv(width, width, stride=stride, groups=groups, act=act, **self._sk_options)


@register_model(IMAGENET, options_from=(ResNet,),
                options=signature_options(SKBottleneck, only=("num_branches", "reduction", "min_dim")))
def sknet50(num_classes: int = 1000, **options) -> ResNet:
    """SKNet-50 (SK units in a ResNeXt-50 32x4d, 3-4-6-3 blocks); about 27.5 M parameters."""
    options.setdefault("groups", 32)
    options.setdefault("base_width", 4)
    block_kwargs = {k: options.pop(k) for k in ("num_branches", "reduction", "min_dim") if k in options}
    return ResNet(SKBottleneck, (3, 4, 6, 3), num_classes=num_classes, block_kwargs=block_kwargs, **options)
