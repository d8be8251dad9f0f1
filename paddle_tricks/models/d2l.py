"""The ResNet-18 and DenseNet of "Dive into Deep Learning" (d2l, ch. 8.6-8.7) for Fashion-MNIST.

Papers: He K. et al., "Deep Residual Learning for Image Recognition", CVPR 2016, arXiv 1512.03385;
Huang G. et al., "Densely Connected Convolutional Networks", CVPR 2017, arXiv 1608.06993.

The d2l forms differ from the ImageNet models in ``resnet.py`` / ``densenet.py``:

* ResNet-18: the projection shortcut is a biased 1x1 conv **without** BN; the net is a flat
  ``nn.Sequential`` (stem, four stages of two residual blocks, global pool, flatten, linear) meant for 96x96
  (or 224x224) single-channel inputs.
* DenseNet: no bottleneck 1x1 in the dense layers (BN → ReLU → 3x3 conv of 32 channels), four dense blocks
  of four layers, transitions halving the channels (BN → ReLU → 1x1 conv → 2x2 average pool).

Convs followed directly by BN (the residual branch and the stem) are ``ConvBNAct`` units without bias (the
book's conv bias there is cancelled by the BN); the pre-activation convs of the DenseNet keep their bias as
in the book. ``init='xavier'`` (default) re-initialises conv and linear weights as d2l's training loop does.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from .classic import apply_init
from .registry import d2l_cfg, register_model

__all__ = ["Residual", "D2LDenseBlock"]


class Residual(nn.Layer):
    """d2l residual block: 3x3 ConvBNAct → 3x3 ConvBN, plus an identity or a biased 1x1 conv shortcut.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        use_1x1conv: project the shortcut with a 1x1 conv (needed when channels or stride change).
        stride: stride of the first 3x3 conv (and of the projection).
    """

    def __init__(self, in_channels: int, out_channels: int, use_1x1conv: bool = False, stride: int = 1):
        super().__init__()
        if not use_1x1conv and (stride != 1 or in_channels != out_channels):
            raise ValueError(f"Residual: stride={stride} or in_channels={in_channels} != "
                             f"out_channels={out_channels} needs use_1x1conv=True")
        self.conv1 = ConvBNAct(in_channels, out_channels, 3, stride=stride)
        self.conv2 = ConvBNAct(out_channels, out_channels, 3, act=None)
        self.conv3 = nn.Conv2D(in_channels, out_channels, 1, stride=stride) if use_1x1conv else None
        self.act = nn.ReLU()

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        if self.conv3 is not None:
            x = self.conv3(x)
        return self.act(y + x)


def _resnet_stage(in_channels: int, out_channels: int, num_residuals: int, first_block: bool = False):
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(in_channels, out_channels, use_1x1conv=True, stride=2))
        else:
            blocks.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blocks)


def _stem(in_channels: int) -> nn.Sequential:
    return nn.Sequential(ConvBNAct(in_channels, 64, 7, stride=2), nn.MaxPool2D(3, stride=2, padding=1))


@register_model(d2l_cfg(96))
def resnet18_d2l(num_classes: int = 10, in_channels: int = 1, init: str = "xavier") -> nn.Sequential:
    """ResNet-18 (d2l form).

    Args:
        num_classes: outputs.
        in_channels: image channels.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    net = nn.Sequential(
        _stem(in_channels),
        _resnet_stage(64, 64, 2, first_block=True),
        _resnet_stage(64, 128, 2),
        _resnet_stage(128, 256, 2),
        _resnet_stage(256, 512, 2),
        nn.AdaptiveAvgPool2D(1), nn.Flatten(), nn.Linear(512, num_classes))
    return apply_init(net, init)


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2D(in_channels), nn.ReLU(),
                         nn.Conv2D(in_channels, out_channels, 3, padding=1))


class D2LDenseBlock(nn.Layer):
    """``num_convs`` BN-ReLU-3x3 conv blocks, each concatenating its ``growth_rate`` outputs to its input.

    Args:
        num_convs: conv blocks.
        in_channels: input channels.
        growth_rate: channels added by each conv block.
    """

    def __init__(self, num_convs: int, in_channels: int, growth_rate: int):
        super().__init__()
        self.net = nn.LayerList([_conv_block(in_channels + i * growth_rate, growth_rate)
                                 for i in range(num_convs)])
        self.out_channels = in_channels + num_convs * growth_rate

    def forward(self, x):
        for blk in self.net:
            x = paddle.concat([x, blk(x)], axis=1)
        return x


def _transition(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2D(in_channels), nn.ReLU(),
                         nn.Conv2D(in_channels, out_channels, 1), nn.AvgPool2D(2, stride=2))


@register_model(d2l_cfg(96))
def densenet_d2l(num_classes: int = 10, in_channels: int = 1, growth_rate: int = 32,
                 num_convs_in_dense_blocks=(4, 4, 4, 4), init: str = "xavier") -> nn.Sequential:
    """DenseNet (d2l form): ResNet stem, four dense blocks of four conv blocks (k = 32), halving transitions.

    Args:
        num_classes: outputs.
        in_channels: image channels.
        growth_rate: channels added per conv block.
        num_convs_in_dense_blocks: conv blocks per dense block.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    blocks = []
    c = 64
    for i, n in enumerate(num_convs_in_dense_blocks):
        blk = D2LDenseBlock(n, c, growth_rate)
        blocks.append(blk)
        c = blk.out_channels
        if i != len(num_convs_in_dense_blocks) - 1:
            blocks.append(_transition(c, c // 2))
            c //= 2
    net = nn.Sequential(
        _stem(in_channels), *blocks,
        nn.BatchNorm2D(c), nn.ReLU(), nn.AdaptiveAvgPool2D(1), nn.Flatten(), nn.Linear(c, num_classes))
    return apply_init(net, init)
