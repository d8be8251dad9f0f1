"""CoordConv: give a convolution its own pixel coordinates as extra input channels.

Paper: Rosanne Liu et al., "An Intriguing Failing of Convolutional Neural Networks and the CoordConv
Solution", NeurIPS 2018, arXiv 1807.03247. Official code: ``uber-research/CoordConv`` (TensorFlow,
``CoordConv.py``).

:class:`AddCoords` concatenates ``[x, xx, yy]`` (and ``rr = sqrt(xx² + yy²)`` with ``with_r=True``) along
the channels, where ``xx`` varies along the width and ``yy`` along the height, both linearly from -1 to 1
(``2·i/(dim-1) - 1``). :class:`CoordConv` is ``AddCoords`` followed by a ``Conv2D`` with ``C + 2`` (or
``C + 3``) input channels.

Differences from the official code: the official layer fixes ``x_dim``/``y_dim`` at construction and
normalises one of the coordinate channels by the wrong dimension, which is only right for square maps.
Here the coordinates are computed from the *runtime* height and width (any size, also after
``paddle.jit`` export with dynamic shapes), broadcast over the batch, in the input's dtype. A dimension
of size 1 gets the coordinate -1 (the official formula would divide by zero).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
from .surgery_leaf import SurgeryLeaf

__all__ = ["AddCoords", "CoordConv"]


class AddCoords(SurgeryLeaf, nn.Layer):
    """Append coordinate channels ``xx`` (along W), ``yy`` (along H) and optionally ``rr``.

    Args:
        with_r: also append the radius channel ``sqrt(xx² + yy²)``.
    """

    def __init__(self, with_r: bool = False):
        super().__init__()
        self.with_r = with_r

    @property
    def extra_channels(self) -> int:
        return 3 if self.with_r else 2

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        shape = paddle.shape(x)
        xs = paddle.linspace(-1.0, 1.0, shape[3], dtype=x.dtype).reshape([1, 1, 1, -1])
        ys = paddle.linspace(-1.0, 1.0, shape[2], dtype=x.dtype).reshape([1, 1, -1, 1])
        full = [shape[0], 1, shape[2], shape[3]]  # [B, 1, H, W]: broadcast over the batch
        xx = paddle.expand(xs, full)
        yy = paddle.expand(ys, full)
        parts = [x, xx, yy]
        if self.with_r:
            parts.append(paddle.sqrt(xx * xx + yy * yy))
        return paddle.concat(parts, axis=1)

    def extra_repr(self) -> str:
        return f"with_r={self.with_r}"


class CoordConv(SurgeryLeaf, nn.Layer):
    """:class:`AddCoords` then ``Conv2D(in_channels + 2 (+1), out_channels, ...)``.

    Args:
        in_channels: channels of the input (before the coordinates are added).
        out_channels: output channels.
        kernel_size: square kernel size.
        stride: convolution stride.
        padding: padding; ``None`` gives ``(kernel_size - 1) // 2``.
        groups: convolution groups (must divide ``in_channels + 2/3`` and ``out_channels``).
        with_r: add the radius channel too.
        bias: conv bias (the official layer keeps the framework default, a bias).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1, with_r: bool = False, bias: bool = True):
        super().__init__()
        self.add_coords = AddCoords(with_r)
        cin = in_channels + self.add_coords.extra_channels
        if cin % groups or out_channels % groups:
            raise ValueError(f"CoordConv: groups={groups} must divide in_channels+coords={cin} and "
                             f"out_channels={out_channels}")
        if padding is None:
            padding = (kernel_size - 1) // 2
        self.conv = nn.Conv2D(cin, out_channels, kernel_size, stride=stride, padding=padding, groups=groups,
                              bias_attr=None if bias else False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.conv(self.add_coords(x))
