"""AsymmNet-Large / AsymmNet-Small.

Paper: H. Yang, Z. Shen, Y. Zhao, "AsymmNet: Towards ultralight convolution neural networks using
asymmetrical bottlenecks", CVPR Workshops 2021, arXiv 2104.07770. Official code: ``Spark001/AsymmNet``
(MXNet ``models/asymmnet.py`` and the PyTorch port ``pytorch/asymmnet.py``); this port follows it.

The asymmetrical bottleneck moves part of the first pointwise expansion into free features: the
expand 1×1 conv produces only ``exp − r·C_in`` channels and ``r`` copies of the raw block input are
concatenated on each side of it, so the depthwise conv, the SE and the linear projection work on
``exp + r·C_in`` channels. ``asymmrate`` ``r = 0`` gives the MobileNetV3 block.

Differences from the official code:

* The stem width is scaled by the width multiplier, as in the PyTorch port; the MXNet code scales
  the stem but passes the unscaled 16 as the first block's input channels (a bug at width ≠ 1).
* A block without expansion runs its depthwise conv on its ``C_in`` input channels. The official
  code builds it with ``exp`` channels, which only works when ``exp == C_in`` (true in both configs).
* The classifier is ``nn.Linear`` (the MXNet code uses an equivalent biased 1×1 conv), dropout is
  element-wise ``nn.Dropout`` (the PyTorch port's ``Dropout2d`` on a 1×1 map is the same thing).

Parameter count of AsymmNet-L ×1.0 with 1000 classes: 6,076,608 learnable parameters, the same as
the official code; Paddle's ``summary`` shows 6,101,008 (6.10 M) because it also counts the
24,400 BatchNorm running statistics. The paper's 5.99 M is the official ``checkpoints/macc.txt``
total 5,991,776, whose counting tool undercounts two kinds of layer (its MAdds are right):
depthwise convs as ``C·k`` instead of ``C·k²`` weights (−84,544) and the stem conv as 144 instead
of 3·16·3·3 = 432 weights (−288). MAdds at 224 px reproduce the official ones exactly
(L 1.0/0.75/0.5/0.35: 216.9/142.1/67.2/42.6 M; S 1.0: 57.7 M; asymmrate 0, L 1.0: 216.6 M).
"""
from __future__ import annotations

import math

import paddle
import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.hard_sigmoid import HardSigmoid
from ..layers.surgery_leaf import SurgeryLeaf
from ..utils.make_divisible import ceil_divisible
from .registry import IMAGENET, register_model

__all__ = ["AsymmBottleneck", "AsymmNet", "asymmnet_large", "asymmnet_small"]

# kernel, expansion channels, output channels, SE, activation, stride (official configs, width 1.0)
_LARGE = [
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hswish", 2),
    (3, 200, 80, False, "hswish", 1),
    (3, 184, 80, False, "hswish", 1),
    (3, 184, 80, False, "hswish", 1),
    (3, 480, 112, True, "hswish", 1),
    (3, 672, 112, True, "hswish", 1),
    (5, 672, 160, True, "hswish", 2),
    (5, 960, 160, True, "hswish", 1),
    (5, 960, 160, True, "hswish", 1),
]
_SMALL = [
    (3, 16, 16, True, "relu", 2),
    (3, 72, 24, False, "relu", 2),
    (3, 88, 24, False, "relu", 1),
    (5, 96, 40, True, "hswish", 2),
    (5, 240, 40, True, "hswish", 1),
    (5, 240, 40, True, "hswish", 1),
    (5, 120, 48, True, "hswish", 1),
    (5, 144, 48, True, "hswish", 1),
    (5, 288, 96, True, "hswish", 2),
    (5, 576, 96, True, "hswish", 1),
    (5, 576, 96, True, "hswish", 1),
]
_STEM_CHANNELS = 16
_HEAD_CHANNELS = 1280  # the 1×1 conv after global pooling; not width-scaled


class _HardSigmoidSE(SurgeryLeaf, nn.Layer):
    """AsymmNet / MobileNetV3 squeeze-and-excitation with a hard-sigmoid gate.

    GAP → biased 1×1 conv to ``ceil8(channels // reduction)`` → ReLU → biased 1×1 conv → hard
    sigmoid → channel scale. The bottleneck width rounds *up* to a multiple of ``divisor``.

    Args:
        channels: input and output channels.
        reduction: channel reduction of the bottleneck.
        divisor: the bottleneck width is rounded up to a multiple of it.
    """

    def __init__(self, channels: int, reduction: int = 4, divisor: int = 8):
        super().__init__()
        mid = ceil_divisible(channels // reduction, divisor)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc1 = nn.Conv2D(channels, mid, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2D(mid, channels, 1)
        self.gate = HardSigmoid()  # relu6(x + 3) / 6 exactly

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


class AsymmBottleneck(nn.Layer):
    """Asymmetrical bottleneck: [expand 1×1] → concat(r·x, e, r·x) → DW k×k → [SE] → linear 1×1 (+x).

    The expansion exists only when ``mid_channels > max(in_channels, r·in_channels)``; it outputs
    ``mid_channels − r·in_channels`` channels and the depthwise conv then sees
    ``mid_channels + r·in_channels``. The residual is used iff ``in == out`` and ``stride == 1``.

    Args:
        in_channels: input channels ``C_in``.
        mid_channels: the configured expansion width ``exp``.
        out_channels: output channels.
        kernel_size: depthwise kernel size.
        stride: depthwise stride.
        act: activation name of the expand and depthwise units.
        use_se: put a hard-sigmoid SE after the depthwise unit.
        asymmrate: number ``r`` of input copies on each side of the expansion (0: MobileNetV3 block).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, act: str = "relu", use_se: bool = False, asymmrate: int = 1):
        super().__init__()
        if not isinstance(asymmrate, int) or isinstance(asymmrate, bool) or asymmrate < 0:
            raise ValueError(f"asymmrate must be an integer >= 0, got {asymmrate!r}")
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}")
        self.asymmrate = asymmrate
        self.use_residual = in_channels == out_channels and stride == 1
        if mid_channels > max(in_channels, asymmrate * in_channels):
            self.expand = ConvBNAct(in_channels, mid_channels - asymmrate * in_channels, 1, act=act)
            dw_channels = mid_channels + asymmrate * in_channels
        else:
            self.expand = None
            dw_channels = in_channels
        self.dw = ConvBNAct(dw_channels, dw_channels, kernel_size, stride, groups=dw_channels, act=act)
        self.se = _HardSigmoidSE(dw_channels) if use_se else None
        self.project = ConvBNAct(dw_channels, out_channels, 1, act=None)

    def forward(self, x):
        out = x
        if self.expand is not None:
            out = self.expand(x)
            if self.asymmrate > 0:
                copies = [x] * self.asymmrate
                out = paddle.concat(copies + [out] + copies, axis=1)
        out = self.dw(out)
        if self.se is not None:
            out = self.se(out)
        out = self.project(out)
        return x + out if self.use_residual else out


class AsymmNet(nn.Layer):
    """AsymmNet backbone + classifier.

    stem 3×3 s2 (hswish) → asymmetrical bottlenecks → 1×1 conv (BN, hswish) → GAP →
    1×1 conv to 1280 (no BN, hswish) → dropout → linear classifier.

    Args:
        cfg: rows ``(kernel, exp, out, use_se, act, stride)`` at width 1.0.
        last_channels: width of the 1×1 conv before pooling, at width 1.0 (960 Large, 576 Small).
        num_classes: classifier outputs.
        width_mult: width multiplier; every width except the 1280 head rounds up to a multiple of 8.
        asymmrate: input copies on each side of the expansion (0 gives MobileNetV3 blocks).
        dropout: dropout probability before the classifier.
        in_channels: image channels.
    """

    def __init__(self, cfg, last_channels: int, num_classes: int = 1000, width_mult: float = 1.0,
                 asymmrate: int = 1, dropout: float = 0.2, in_channels: int = 3):
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        channels = ceil_divisible(_STEM_CHANNELS * width_mult)
        self.stem = ConvBNAct(in_channels, channels, 3, 2, act="hswish")
        blocks = []
        for kernel, exp, out, use_se, act, stride in cfg:
            out = ceil_divisible(out * width_mult)
            blocks.append(AsymmBottleneck(channels, ceil_divisible(exp * width_mult), out, kernel, stride,
                                          act, use_se, asymmrate))
            channels = out
        self.blocks = nn.Sequential(*blocks)
        last = ceil_divisible(last_channels * width_mult)
        self.last_conv = ConvBNAct(channels, last, 1, act="hswish")
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.head_conv = nn.Conv2D(last, _HEAD_CHANNELS, 1, bias_attr=False)
        self.head_act = nn.Hardswish()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(_HEAD_CHANNELS, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """MXNet ``MSRAPrelu`` (the official training init): N(0, 2 / (1.0625 · (fan_in + fan_out) / 2))
        for conv and linear weights, zero biases, BN γ = 1 and β = 0 (Paddle's defaults)."""
        for layer in self.sublayers():
            if isinstance(layer, (nn.Conv2D, nn.Linear)):
                w = layer.weight
                if isinstance(layer, nn.Conv2D):  # [Cout, Cin/groups, k, k]
                    field = w.shape[2] * w.shape[3]
                    fan_in, fan_out = w.shape[1] * field, w.shape[0] * field
                else:  # Paddle stores Linear weights as [in, out]
                    fan_in, fan_out = w.shape
                std = math.sqrt(2.0 / (1.0 + 0.25 ** 2) / ((fan_in + fan_out) / 2.0))
                nn.initializer.Normal(0.0, std)(w)
                if layer.bias is not None:
                    nn.initializer.Constant(0.0)(layer.bias)

    def forward_features(self, x):
        """Feature map after the last 1×1 conv (before pooling)."""
        return self.last_conv(self.blocks(self.stem(x)))

    def forward(self, x):
        x = self.pool(self.forward_features(x))
        x = self.dropout(self.head_act(self.head_conv(x)))
        return self.fc(paddle.flatten(x, 1))


@register_model(IMAGENET)
def asymmnet_large(num_classes: int = 1000, width_mult: float = 1.0, asymmrate: int = 1,
                   dropout: float = 0.2, in_channels: int = 3) -> AsymmNet:
    """AsymmNet-Large: 216.9 M MAdds, 6.08 M params (paper: 5.99 M) at width 1.0, 224 px, 1000 classes."""
    return AsymmNet(_LARGE, 960, num_classes, width_mult, asymmrate, dropout, in_channels)


@register_model(IMAGENET)
def asymmnet_small(num_classes: int = 1000, width_mult: float = 1.0, asymmrate: int = 1,
                   dropout: float = 0.2, in_channels: int = 3) -> AsymmNet:
    """AsymmNet-Small: 57.7 M MAdds, 3.13 M params at width 1.0, 224 px, 1000 classes."""
    return AsymmNet(_SMALL, 576, num_classes, width_mult, asymmrate, dropout, in_channels)
