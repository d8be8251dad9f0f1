"""``spp_net``: a small CNN classifier with a spatial pyramid pooling head, for CIFAR-size inputs.

Paper: He K., Zhang X., Ren S., Sun J., "Spatial Pyramid Pooling in Deep Convolutional Networks for
Visual Recognition", ECCV 2014 / TPAMI 2015, arXiv 1406.4729.

The paper puts SPP on top of ZF-5 / Overfeat convolutional trunks at ImageNet scale. This model is the
CIFAR-10 experiment of the source tutorial: a short VGG-style trunk (3×3 ``ConvBNAct`` units, two 2×2
max-pools), then :class:`paddle_tricks.layers.SpatialPyramidPooling` (levels ``(4, 2, 1)``), then a
two-layer MLP head. Thanks to SPP it accepts any input size of at least 4 px (two max-pools) without
changing the head, which the paper uses for multi-size training.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.spp import SpatialPyramidPooling
from .registry import CIFAR, register_model

__all__ = ["SPPNet", "spp_net"]


class SPPNet(nn.Layer):
    """Conv trunk → spatial pyramid pooling → MLP classifier.

    Args:
        num_classes: number of output classes.
        in_channels: image channels.
        width: channels of the first stage (stages use ``width``, ``2·width``, ``4·width``).
        levels: SPP pyramid levels.
        hidden: width of the hidden fully connected layer.
        dropout: dropout before the last layer.
        act: activation of the trunk and of the hidden layer.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 32,
                 levels: Sequence[int] = (4, 2, 1), hidden: int = 256, dropout: float = 0.5,
                 act: str = "relu"):
        super().__init__()
        if width < 1 or hidden < 1 or num_classes < 1:
            raise ValueError(f"SPPNet: width={width}, hidden={hidden} and num_classes={num_classes} must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SPPNet: dropout must be in [0, 1), got {dropout}")
        w1, w2, w3 = width, 2 * width, 4 * width
        self.features = nn.Sequential(
            ConvBNAct(in_channels, w1, 3, act=act), ConvBNAct(w1, w1, 3, act=act), nn.MaxPool2D(2, 2),
            ConvBNAct(w1, w2, 3, act=act), ConvBNAct(w2, w2, 3, act=act), nn.MaxPool2D(2, 2),
            ConvBNAct(w2, w3, 3, act=act), ConvBNAct(w3, w3, 3, act=act),
        )
        self.spp = SpatialPyramidPooling(levels)
        self.classifier = nn.Sequential(
            nn.Linear(self.spp.output_size(w3), hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.classifier(self.spp(self.features(x)))


@register_model(CIFAR, options_from=(SPPNet,))
def spp_net(num_classes: int = 1000, **options) -> SPPNet:
    """SPP classifier for CIFAR-size images (options: ``in_channels``, ``width``, ``levels``, ``hidden``,
    ``dropout``, ``act``)."""
    return SPPNet(num_classes=num_classes, **options)
