"""Octave convolution: a high-frequency map at full resolution and a low-frequency map at half resolution.

Paper: Yunpeng Chen et al., "Drop an Octave: Reducing Spatial Redundancy in Convolutional Neural
Networks with Octave Convolution", ICCV 2019, arXiv 1904.05049. Official code:
``facebookresearch/OctConv`` (MXNet Gluon, ``utils/gluon/utils/octconv.py``), which this port follows:

* a fraction ``α`` of the channels is low-frequency (``C_l = int(α·C)``, ``C_h = C - C_l``);
* four paths: ``h2h = conv(X_h)``, ``h2l = conv(AvgPool2(X_h))``, ``l2h = NearestUp2(conv(X_l))``,
  ``l2l = conv(X_l)``; ``Y_h = h2h + l2h`` and ``Y_l = h2l + l2l``;
* stride 2 is done by average pooling, never by a strided conv: AvgPool(2) before ``h2h`` and ``l2l``,
  AvgPool(4) before ``h2l``, and no upsampling after ``l2h``;
* first layer ``α_in = 0`` (plain tensor in, two out), last layer ``α_out = 0`` (two in, ``X_l`` output is
  ``None``), depthwise when ``groups == in_channels`` (then ``h2l``/``l2h`` are dropped and each path is
  depthwise over its own channels);
* ``bias=True`` puts a bias on one path per output only (``h2h`` else ``l2h``; ``h2l`` else ``l2l``).
  Default ``bias=False``: octave convs are followed by BatchNorm.

**Input and output are a tuple** ``(x_h, x_l)``; a missing frequency is ``None`` (``x_l is None`` when
``α = 0``, ``x_h is None`` when ``α = 1``). ``forward(x_h, x_l=None)`` also accepts the tuple as its first
argument, so layers chain in ``nn.Sequential``, and a bare tensor for a first layer. Pooling uses
``ceil_mode=True`` and excludes padding, as in the official code; the high-frequency map must have even
height and width (the ×2 nearest upsampling of ``l2h`` has to land on the ``h2h`` size).

Not ported: the official ``Adapter``/``SE``/pooling wrappers (BN + activation on both paths is
:class:`OctaveConvBNAct`).
"""
from __future__ import annotations

from typing import Callable

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_tricks.layers.create_act import create_act
from .surgery_leaf import SurgeryLeaf

__all__ = ["OctaveConv", "OctaveConvBNAct", "octave_split"]


def octave_split(channels: int, alpha: float) -> tuple[int, int]:
    """``(high, low)`` channel counts for ``channels`` and low-frequency ratio ``alpha``."""
    low = int(alpha * channels)
    return channels - low, low


def _pool(x: paddle.Tensor, k: int) -> paddle.Tensor:
    return F.avg_pool2d(x, kernel_size=k, stride=k, ceil_mode=True, exclusive=True)


class OctaveConv(SurgeryLeaf, nn.Layer):
    """Octave convolution over a ``(high, low)`` pair of feature maps.

    Args:
        in_channels: total input channels (high + low).
        out_channels: total output channels (high + low).
        kernel_size: square kernel size of every path.
        alpha_in: low-frequency fraction of the input channels, in [0, 1] (0 for the first layer).
        alpha_out: low-frequency fraction of the output channels, in [0, 1] (0 for the last layer).
        stride: 1 or 2 (stride 2 is average pooling, see the module docstring).
        padding: conv padding; ``None`` gives ``(kernel_size - 1) // 2``.
        groups: conv groups of every path; ``groups == in_channels`` makes it depthwise
            (requires ``in_channels == out_channels`` and ``alpha_in == alpha_out``).
        bias: add a bias on one path per output frequency.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, alpha_in: float = 0.5,
                 alpha_out: float = 0.5, stride: int = 1, padding: int | None = None, groups: int = 1,
                 bias: bool = False):
        super().__init__()
        for name, a in (("alpha_in", alpha_in), ("alpha_out", alpha_out)):
            if not 0.0 <= a <= 1.0:
                raise ValueError(f"OctaveConv: {name}={a} must lie in [0, 1]")
        if stride not in (1, 2):
            raise ValueError(f"OctaveConv: stride={stride} must be 1 or 2 (stride is average pooling)")
        in_h, in_l = octave_split(in_channels, alpha_in)
        out_h, out_l = octave_split(out_channels, alpha_out)
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"OctaveConv: in_channels={in_channels} and out_channels={out_channels} "
                             f"must be positive")
        self.depthwise = groups == in_channels and groups > 1
        if self.depthwise:
            if (in_h, in_l) != (out_h, out_l):
                raise ValueError(f"OctaveConv: depthwise (groups=in_channels={groups}) needs the same "
                                 f"(high, low) split in and out, got {(in_h, in_l)} -> {(out_h, out_l)}")
        else:
            for what, c in (("in_high", in_h), ("in_low", in_l), ("out_high", out_h), ("out_low", out_l)):
                if c and c % groups:
                    raise ValueError(f"OctaveConv: groups={groups} must divide every path's channels, "
                                     f"but {what}={c} (in={in_h}+{in_l}, out={out_h}+{out_l})")
        if padding is None:
            padding = (kernel_size - 1) // 2
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_split, self.out_split = (in_h, in_l), (out_h, out_l)
        self.alpha_in, self.alpha_out = alpha_in, alpha_out
        self.stride = stride
        self.groups = groups

        use = {
            "h2h": in_h > 0 and out_h > 0,
            "h2l": in_h > 0 and out_l > 0 and not self.depthwise,
            "l2h": in_l > 0 and out_h > 0 and not self.depthwise,
            "l2l": in_l > 0 and out_l > 0,
        }
        has_bias = {
            "h2h": bias and use["h2h"], "l2h": bias and not use["h2h"],
            "h2l": bias and use["h2l"], "l2l": bias and not use["h2l"],
        }
        io = {"h2h": (in_h, out_h), "h2l": (in_h, out_l), "l2h": (in_l, out_h), "l2l": (in_l, out_l)}
        for name in ("h2h", "h2l", "l2h", "l2l"):
            if not use[name]:
                setattr(self, name, None)
                continue
            cin, cout = io[name]
            g = cin if self.depthwise else groups
            setattr(self, name, nn.Conv2D(cin, cout, kernel_size, stride=1, padding=padding, groups=g,
                                          bias_attr=None if has_bias[name] else False))

    def forward(self, x_h, x_l=None):
        """Args: ``(x_h, x_l)`` as two arguments or one tuple. Returns ``(y_h, y_l)`` (``None`` if absent)."""
        if isinstance(x_h, (tuple, list)):
            x_h, x_l = x_h
        in_h, in_l = self.in_split
        if (in_h > 0) != (x_h is not None) or (in_l > 0) != (x_l is not None):
            raise ValueError(f"OctaveConv: expected (x_h, x_l) with {in_h} high and {in_l} low channels "
                             f"(None for an empty path), got x_h={'None' if x_h is None else 'tensor'}, "
                             f"x_l={'None' if x_l is None else 'tensor'}")
        s2 = self.stride == 2
        y_h = y_l = None
        if self.h2h is not None:
            y_h = self.h2h(_pool(x_h, 2) if s2 else x_h)
        if self.l2h is not None:
            t = self.l2h(x_l)
            if not s2:
                t = F.interpolate(t, scale_factor=2, mode="nearest")
            y_h = t if y_h is None else y_h + t
        if self.h2l is not None:
            y_l = self.h2l(_pool(x_h, 4 if s2 else 2))
        if self.l2l is not None:
            t = self.l2l(_pool(x_l, 2) if s2 else x_l)
            y_l = t if y_l is None else y_l + t
        return y_h, y_l

    def extra_repr(self) -> str:
        return (f"in={self.in_split}, out={self.out_split} (high, low), stride={self.stride}, "
                f"groups={self.groups}, depthwise={self.depthwise}")


class OctaveConvBNAct(SurgeryLeaf, nn.Layer):
    """:class:`OctaveConv` followed by separate BatchNorm and activation on the high and low maps.

    Args:
        in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride, padding, groups:
            as in :class:`OctaveConv` (no conv bias).
        act: activation name, factory or ``None``; one activation layer per frequency
            (``act_h``, ``act_l``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, alpha_in: float = 0.5,
                 alpha_out: float = 0.5, stride: int = 1, padding: int | None = None, groups: int = 1,
                 act: str | Callable[[], nn.Layer] | None = "relu"):
        super().__init__()
        self.conv = OctaveConv(in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride, padding,
                               groups, bias=False)
        out_h, out_l = self.conv.out_split
        self.bn_h = nn.BatchNorm2D(out_h) if out_h else None
        self.bn_l = nn.BatchNorm2D(out_l) if out_l else None
        self.act_h = create_act(act) if out_h else None
        self.act_l = create_act(act) if out_l else None

    def forward(self, x_h, x_l=None):
        y_h, y_l = self.conv(x_h, x_l)
        if y_h is not None:
            y_h = self.act_h(self.bn_h(y_h))
        if y_l is not None:
            y_l = self.act_l(self.bn_l(y_l))
        return y_h, y_l
