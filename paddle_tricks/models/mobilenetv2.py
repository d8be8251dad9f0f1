"""MobileNetV2.

Paper: M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018, arXiv 1801.04381.

Built from ``ConvBNAct`` units with ReLU6; the layer widths, the rounding of widths (nearest multiple
of 8, never 10 % below) and the 1280-channel last conv (scaled only for ``width_mult > 1``) follow
the reference implementations (TF-slim, torchvision, ``paddle.vision.models.mobilenet_v2``), so
the 1000-class ×1.0 model has the same 3,504,872 learnable parameters as Paddle's and ≈ 300 M
MAdds at 224 px (the paper's figure). Differences from the paper: the paper counts 3.4 M
parameters; weights are initialised as in torchvision (Kaiming-normal fan-out convs,
N(0, 0.01) classifier), not TF's truncated normal.
"""
from __future__ import annotations

import math

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..utils.make_divisible import make_divisible
from .registry import IMAGENET, register_model

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenet_v2"]

# expansion t, output channels c, repeats n, first stride s (Table 2 of the paper)
_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class InvertedResidual(nn.Layer):
    """[1×1 expand (ReLU6)] → 3×3 depthwise (ReLU6) → 1×1 linear projection, + x when shapes match.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: depthwise stride (1 or 2).
        expand_ratio: hidden width = ``round(in_channels * expand_ratio)``; 1 skips the expansion.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: float):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        hidden = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = ConvBNAct(in_channels, hidden, 1, act="relu6") if expand_ratio != 1 else None
        self.dw = ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act="relu6")
        self.project = ConvBNAct(hidden, out_channels, 1, act=None)

    def forward(self, x):
        out = self.expand(x) if self.expand is not None else x
        out = self.project(self.dw(out))
        return x + out if self.use_residual else out


class MobileNetV2(nn.Layer):
    """MobileNetV2 classifier.

    Args:
        num_classes: classifier outputs.
        width_mult: width multiplier of every layer (the last conv only grows, never shrinks).
        dropout: dropout probability before the classifier.
        in_channels: image channels.
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2,
                 in_channels: int = 3):
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        channels = make_divisible(32 * width_mult)
        layers = [ConvBNAct(in_channels, channels, 3, 2, act="relu6")]
        for t, c, n, s in _SETTINGS:
            out = make_divisible(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        self.last_channels = make_divisible(1280 * max(1.0, width_mult))
        layers.append(ConvBNAct(channels, self.last_channels, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.last_channels, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):  # Kaiming normal, fan-out mode: Cout·k·k
                cout, _, kh, kw = layer.weight.shape
                nn.initializer.Normal(0.0, math.sqrt(2.0 / (cout * kh * kw)))(layer.weight)
            elif isinstance(layer, nn.Linear):
                nn.initializer.Normal(0.0, 0.01)(layer.weight)
                nn.initializer.Constant(0.0)(layer.bias)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(self.dropout(paddle.flatten(x, 1)))


@register_model(IMAGENET)
def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2,
                 in_channels: int = 3) -> MobileNetV2:
    """MobileNetV2 (3.50 M params, ≈ 300 M MAdds at width 1.0, 224 px, 1000 classes)."""
    return MobileNetV2(num_classes, width_mult, dropout, in_channels)
