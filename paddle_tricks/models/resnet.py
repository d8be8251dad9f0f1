"""ResNet-18/34/50/101/152 (and ResNeXt / SE-ResNet through options).

Paper: He K., Zhang X., Ren S., Sun J., "Deep Residual Learning for Image Recognition", CVPR 2016,
arXiv 1512.03385. Layout of ``torchvision`` / ``paddle.vision`` ("ResNet v1.5"): the stride of a bottleneck
sits on its 3x3 convolution (the paper puts it on the first 1x1), projection shortcuts (1x1 conv + BN) only
where the shape changes. The parameter counts equal ``paddle.vision.models.resnet*`` (ResNet-50:
25,557,032 trainable parameters at 1000 classes).

Options beyond the paper, all off by default:

* ``groups`` / ``base_width``: ResNeXt bottlenecks (Xie et al., arXiv 1611.05431), e.g. 32x4d;
* ``attn_layer``: a name of :func:`~paddle_tricks.layers.create_attn.create_attn` (``'se'``, ``'nam'``) or
  a factory ``channels -> nn.Layer``, applied on the residual branch after the
  last BN and before the add, where SENet (arXiv 1709.01507) puts its SE module;
* ``stem_type='deep'`` (three 3x3 convs, ResNet-C of Bag of Tricks, arXiv 1812.01187) and
  ``avg_down=True`` (average-pool shortcut, ResNet-D), as used by ResNeSt;
* ``stem_type='cifar'``: one 3x3 stride-1 conv and no max-pool, for 32x32 inputs.

Every conv + BN (+ activation) is a ``ConvBNAct``; activations are layers.
"""
from __future__ import annotations

from typing import Callable, Sequence, Type

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.create_act import create_act
from ..layers.create_attn import create_attn
from .registry import IMAGENET, register_model

__all__ = ["BasicBlock", "Bottleneck", "ResNet"]


def make_downsample(in_channels: int, out_channels: int, stride: int, avg_down: bool = False) -> nn.Layer:
    """Projection shortcut: 1x1 conv + BN, or (``avg_down``) average pooling then a stride-1 1x1 conv + BN."""
    if avg_down:
        pool = (nn.AvgPool2D(stride, stride, ceil_mode=True, exclusive=True) if stride > 1
                else nn.Identity())
        return nn.Sequential(pool, ConvBNAct(in_channels, out_channels, 1, act=None))
    return ConvBNAct(in_channels, out_channels, 1, stride=stride, act=None)


class BasicBlock(nn.Layer):
    """Two 3x3 ConvBNAct units with an identity or projection shortcut.

    Args:
        in_channels: input channels.
        planes: output channels.
        stride: stride of the first 3x3 convolution.
        downsample: shortcut layer, ``None`` for identity.
        groups: must be 1 (kept for a uniform block signature).
        base_width: must be 64.
        attn_layer: attention on the residual branch (after the last BN, before the add).
        act: activation name or factory.
    """

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Layer | None = None,
                 groups: int = 1, base_width: int = 64, attn_layer=None,
                 act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock supports only groups=1 and base_width=64, got groups={groups}, "
                             f"base_width={base_width}")
        self.conv1 = ConvBNAct(in_channels, planes, 3, stride=stride, act=act)
        self.conv2 = ConvBNAct(planes, planes, 3, act=None)
        self.attn = create_attn(attn_layer, planes)
        self.downsample = downsample
        self.act = create_act(act, channels=planes)

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.attn(self.conv2(self.conv1(x)))
        return self.act(out + shortcut)


class Bottleneck(nn.Layer):
    """1x1 reduce → 3x3 (stride, groups) → 1x1 expand (x4), with an identity or projection shortcut.

    Args:
        in_channels: input channels.
        planes: bottleneck planes; output is ``4 * planes``.
        stride: stride of the 3x3 convolution.
        downsample: shortcut layer, ``None`` for identity.
        groups: groups of the 3x3 (ResNeXt cardinality).
        base_width: width per group; the 3x3 width is ``int(planes * base_width / 64) * groups``.
        attn_layer: attention on the residual branch (after the last BN, before the add).
        act: activation name or factory.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Layer | None = None,
                 groups: int = 1, base_width: int = 64, attn_layer=None,
                 act: str | Callable[[], nn.Layer] = "relu"):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        out_channels = planes * self.expansion
        self.conv1 = ConvBNAct(in_channels, width, 1, act=act)
        self.conv2 = self._make_conv2(width, stride, groups, act)
        self.conv3 = ConvBNAct(width, out_channels, 1, act=None)
        self.attn = create_attn(attn_layer, out_channels)
        self.downsample = downsample
        self.act = create_act(act, channels=out_channels)

    def _make_conv2(self, width: int, stride: int, groups: int, act) -> nn.Layer:
        return ConvBNAct(width, width, 3, stride=stride, groups=groups, act=act)

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.attn(self.conv3(self.conv2(self.conv1(x))))
        return self.act(out + shortcut)


class ResNet(nn.Layer):
    """ResNet family backbone + classifier.

    Args:
        block: ``BasicBlock``, ``Bottleneck`` or a compatible block class.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        num_classes: classifier outputs (0: no classifier, ``forward`` returns pooled features).
        in_channels: image channels.
        groups: 3x3 groups of bottlenecks (ResNeXt cardinality).
        base_width: width per group of bottlenecks.
        stem_type: ``'default'`` (7x7/2 + max-pool), ``'deep'`` (3x3/2, 3x3, 3x3 + max-pool) or
            ``'cifar'`` (3x3/1, no pool).
        stem_width: width of the first two deep-stem convs (the stem outputs ``2 * stem_width``).
        avg_down: average-pool shortcuts instead of strided 1x1 convs.
        attn_layer: attention name or factory for every block (see ``create_attn``).
        act: activation name or factory.
        block_kwargs: extra keyword arguments for every block.
    """

    def __init__(self, block: Type[nn.Layer], layers: Sequence[int], num_classes: int = 1000,
                 in_channels: int = 3, groups: int = 1, base_width: int = 64, stem_type: str = "default",
                 stem_width: int = 32, avg_down: bool = False, attn_layer=None,
                 act: str | Callable[[], nn.Layer] = "relu", block_kwargs: dict | None = None):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list 4 stages, got {list(layers)}")
        if stem_type == "default":
            inplanes = 64
            self.stem = ConvBNAct(in_channels, inplanes, 7, stride=2, act=act)
            self.maxpool = nn.MaxPool2D(3, stride=2, padding=1)
        elif stem_type == "deep":
            inplanes = 2 * stem_width
            self.stem = nn.Sequential(
                ConvBNAct(in_channels, stem_width, 3, stride=2, act=act),
                ConvBNAct(stem_width, stem_width, 3, act=act),
                ConvBNAct(stem_width, inplanes, 3, act=act))
            self.maxpool = nn.MaxPool2D(3, stride=2, padding=1)
        elif stem_type == "cifar":
            inplanes = 64
            self.stem = ConvBNAct(in_channels, inplanes, 3, act=act)
            self.maxpool = nn.Identity()
        else:
            raise ValueError(f"ResNet: unknown stem_type '{stem_type}'; choose 'default', 'deep' or 'cifar'")
        block_kwargs = dict(block_kwargs or {})
        stages = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            out_channels = planes * block.expansion
            blocks = []
            for j in range(n):
                s = stride if j == 0 else 1
                down = None
                if j == 0 and (s != 1 or inplanes != out_channels):
                    down = make_downsample(inplanes, out_channels, s, avg_down)
                blocks.append(block(inplanes, planes, stride=s, downsample=down, groups=groups,
                                    base_width=base_width, attn_layer=attn_layer, act=act, **block_kwargs))
                inplanes = out_channels
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.num_features = inplanes
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(inplanes, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: paddle.Tensor) -> paddle.Tensor:
        """Feature map of the last stage."""
        x = self.maxpool(self.stem(x))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(self.flatten(self.pool(self.forward_features(x))))


@register_model(IMAGENET, options_from=(ResNet,))
def resnet18(num_classes: int = 1000, **options) -> ResNet:
    """ResNet-18 (BasicBlock, 2-2-2-2)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(ResNet,))
def resnet34(num_classes: int = 1000, **options) -> ResNet:
    """ResNet-34 (BasicBlock, 3-4-6-3)."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(ResNet,))
def resnet50(num_classes: int = 1000, **options) -> ResNet:
    """ResNet-50 (Bottleneck, 3-4-6-3); 25.56 M parameters at 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(ResNet,))
def resnet101(num_classes: int = 1000, **options) -> ResNet:
    """ResNet-101 (Bottleneck, 3-4-23-3)."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(ResNet,))
def resnet152(num_classes: int = 1000, **options) -> ResNet:
    """ResNet-152 (Bottleneck, 3-8-36-3)."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes=num_classes, **options)


@register_model(IMAGENET, options_from=(ResNet,), fixed=("groups", "base_width"))
def resnext50_32x4d(num_classes: int = 1000, **options) -> ResNet:
    """ResNeXt-50 32x4d (arXiv 1611.05431), the base network of SKNet-50."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes=num_classes, groups=32, base_width=4, **options)


@register_model(IMAGENET, options_from=(ResNet,))
def se_resnet50(num_classes: int = 1000, **options) -> ResNet:
    """SE-ResNet-50 (arXiv 1709.01507): an SE module (r=16) on every residual branch; 28.09 M parameters."""
    options.setdefault("attn_layer", "se")
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes=num_classes, **options)
