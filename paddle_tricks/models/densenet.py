"""DenseNet-BC 121/169/201/161 (ImageNet) and DenseNet-BC-100 (CIFAR, k = 12).

Paper: Huang G., Liu Z., van der Maaten L., Weinberger K. Q., "Densely Connected Convolutional Networks",
CVPR 2017, arXiv 1608.06993. Official code: ``liuzhuang13/DenseNet`` (Lua Torch); layout of ``torchvision``.

* dense layer (the "B" bottleneck): BN → ReLU → 1x1 conv (``bn_size * k``) → BN → ReLU → 3x3 conv (``k``),
  output concatenated to its input;
* transition (the "C" compression, theta = 0.5): BN → ReLU → 1x1 conv → 2x2 average pool;
* ImageNet stem: 7x7/2 conv (``2k``) → BN → ReLU → 3x3/2 max-pool; CIFAR stem: one 3x3 conv (``2k``);
* head: BN → ReLU → global average pool → linear.

The middle "1x1 conv → BN → ReLU" of every dense layer and the ImageNet stem are ``ConvBNAct`` units;
the leading BN → ReLU of the pre-activation design and the final 3x3 conv are plain layers, as the
pre-activation order (BN before conv) cannot be expressed as conv → BN → act. Parameter counts equal
``torchvision`` / ``paddle.vision`` (DenseNet-121: 7,978,856) and the paper (DenseNet-BC-100: 0.8 M).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from .registry import CIFAR, IMAGENET, register_model

__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet"]


class DenseLayer(nn.Layer):
    """BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 producing ``growth_rate`` channels, concatenated to the input.

    Args:
        in_channels: input channels.
        growth_rate: new channels ``k``.
        bn_size: bottleneck width factor (1x1 conv outputs ``bn_size * k``).
        drop_rate: dropout on the new features.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4, drop_rate: float = 0.0):
        super().__init__()
        self.norm1 = nn.BatchNorm2D(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = ConvBNAct(in_channels, bn_size * growth_rate, 1)
        self.conv2 = nn.Conv2D(bn_size * growth_rate, growth_rate, 3, padding=1, bias_attr=False)
        self.drop = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()

    def forward(self, x):
        new = self.drop(self.conv2(self.conv1(self.relu1(self.norm1(x)))))
        return paddle.concat([x, new], axis=1)


class DenseBlock(nn.Sequential):
    """``num_layers`` dense layers; outputs ``in_channels + num_layers * growth_rate`` channels."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0):
        super().__init__(*[DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)
                           for i in range(num_layers)])


class Transition(nn.Sequential):
    """BN → ReLU → 1x1 conv → 2x2 average pool (stride 2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.BatchNorm2D(in_channels), nn.ReLU(),
                         nn.Conv2D(in_channels, out_channels, 1, bias_attr=False),
                         nn.AvgPool2D(2, stride=2))


class DenseNet(nn.Layer):
    """DenseNet-BC.

    Args:
        growth_rate: ``k``.
        block_config: dense layers per block.
        num_init_features: stem width (``2k`` in the paper's BC models).
        bn_size: bottleneck factor (4).
        compression: transition compression ``theta`` (0.5).
        drop_rate: dropout after each dense layer.
        num_classes: classifier outputs.
        in_channels: image channels.
        small_input: CIFAR stem (one 3x3 conv, no pooling) instead of the ImageNet stem.
    """

    def __init__(self, growth_rate: int = 32, block_config: Sequence[int] = (6, 12, 24, 16),
                 num_init_features: int | None = None, bn_size: int = 4, compression: float = 0.5,
                 drop_rate: float = 0.0, num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False):
        super().__init__()
        if not 0 < compression <= 1:
            raise ValueError(f"DenseNet: compression must be in (0, 1], got {compression}")
        c = num_init_features or 2 * growth_rate
        if small_input:
            self.stem = nn.Conv2D(in_channels, c, 3, padding=1, bias_attr=False)
        else:
            self.stem = nn.Sequential(ConvBNAct(in_channels, c, 7, stride=2),
                                      nn.MaxPool2D(3, stride=2, padding=1))
        stages = []
        for i, n in enumerate(block_config):
            stages.append(DenseBlock(n, c, growth_rate, bn_size, drop_rate))
            c += n * growth_rate
            if i != len(block_config) - 1:
                out = int(c * compression)
                stages.append(Transition(c, out))
                c = out
        self.features = nn.Sequential(*stages)
        self.norm = nn.BatchNorm2D(c)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten()
        self.num_features = c
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.act(self.norm(self.features(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))


@register_model(IMAGENET, options_from=(DenseNet,), fixed=("growth_rate", "block_config"))
def densenet121(num_classes: int = 1000, **options) -> DenseNet:
    """DenseNet-BC-121 (k=32, 6-12-24-16); 7.98 M parameters."""
    return DenseNet(32, (6, 12, 24, 16), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(DenseNet,), fixed=("growth_rate", "block_config"))
def densenet169(num_classes: int = 1000, **options) -> DenseNet:
    """DenseNet-BC-169 (k=32, 6-12-32-32); 14.15 M parameters."""
    return DenseNet(32, (6, 12, 32, 32), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(DenseNet,), fixed=("growth_rate", "block_config"))
def densenet201(num_classes: int = 1000, **options) -> DenseNet:
    """DenseNet-BC-201 (k=32, 6-12-48-32); 20.01 M parameters."""
    return DenseNet(32, (6, 12, 48, 32), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(DenseNet,), fixed=("growth_rate", "block_config"))
def densenet161(num_classes: int = 1000, **options) -> DenseNet:
    """DenseNet-BC-161 (k=48, 6-12-36-24, 96 stem channels); 28.68 M parameters."""
    return DenseNet(48, (6, 12, 36, 24), num_classes=num_classes, **options)


@register_model(CIFAR, options_from=(DenseNet,), fixed=("growth_rate", "block_config"))
def densenet_bc_100(num_classes: int = 10, **options) -> DenseNet:
    """CIFAR DenseNet-BC-100 (k=12, three blocks of 16 dense layers, 3x3 stem); 0.8 M parameters."""
    options.setdefault("small_input", True)
    return DenseNet(12, (16, 16, 16), num_classes=num_classes, **options)
