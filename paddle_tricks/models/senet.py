"""SENet-18 for CIFAR: a pre-activation ResNet-18 with an SE module in every block.

Paper: Hu J., Shen L., Sun G., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv 1709.01507; pre-activation
blocks from He K. et al., "Identity Mappings in Deep Residual Networks", ECCV 2016, arXiv 1603.05027.
The network is the compact CIFAR form of the classic-nets tutorial (3x3 stem with BN and ReLU, four stages
of two pre-activation basic blocks at 64-128-256-512 channels, global average pooling, linear head).

Block: ``BN → ReLU → (shortcut from here when projecting) → conv3x3 → BN → ReLU → conv3x3 → SE → + shortcut``.
The SE (``GAP → FC(C/16) → ReLU → FC(C) → sigmoid``, FCs with bias) sits after the last conv and before the
add, as in the paper; the projection shortcut is a bare 1x1 conv (pre-activation style, no BN). Differences
from the tutorial: global pooling is adaptive (any input size), and the gradient-free ``view`` tricks are gone.
"""
from __future__ import annotations

from typing import Callable

import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.create_act import create_act
from ..layers.create_attn import create_attn
from .registry import CIFAR, register_model

__all__ = ["PreActBlock", "SENet"]


class PreActBlock(nn.Layer):
    """Pre-activation basic block with optional attention on the residual branch.

    Args:
        in_channels: input channels.
        planes: output channels.
        stride: stride of the first 3x3.
        attn_layer: attention factory or name (``'se'``) applied before the add.
        act: activation name or factory.
    """

    def __init__(self, in_channels: int, planes: int, stride: int = 1, attn_layer="se",
                 act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        self.bn1 = nn.BatchNorm2D(in_channels)
        self.act1 = create_act(act)
        self.conv1 = ConvBNAct(in_channels, planes, 3, stride=stride, act=act)  # conv → bn2 → relu
        self.conv2 = nn.Conv2D(planes, planes, 3, padding=1, bias_attr=False)
        self.attn = create_attn(attn_layer, planes)
        self.shortcut = None
        if stride != 1 or in_channels != planes:
            self.shortcut = nn.Conv2D(in_channels, planes, 1, stride=stride, bias_attr=False)

    def forward(self, x):
        out = self.act1(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.attn(self.conv2(self.conv1(out)))
        return out + shortcut


class SENet(nn.Layer):
    """CIFAR-style SENet with pre-activation blocks.

    Args:
        num_blocks: blocks per stage.
        num_classes: classifier outputs.
        in_channels: image channels.
        attn_layer: attention of every block (``'se'`` = SE with r = 16; ``None`` gives PreAct-ResNet).
        act: activation name or factory.
    """

    def __init__(self, num_blocks=(2, 2, 2, 2), num_classes: int = 10, in_channels: int = 3,
                 attn_layer="se", act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        self.stem = ConvBNAct(in_channels, 64, 3, act=act)
        c = 64
        stages = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), num_blocks)):
            blocks = []
            for j in range(n):
                blocks.append(PreActBlock(c, planes, 2 if (i > 0 and j == 0) else 1, attn_layer, act))
                c = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.flatten(self.pool(x)))


@register_model(CIFAR, options_from=(SENet,), fixed=("num_blocks",))
def senet18(num_classes: int = 10, **options) -> SENet:
    """SENet-18 (CIFAR, pre-activation SE blocks, 2-2-2-2); 11.26 M parameters at 10 classes."""
    return SENet((2, 2, 2, 2), num_classes=num_classes, **options)
