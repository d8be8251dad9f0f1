"""Squeeze-and-Excitation channel attention.

Paper: Hu J., Shen L., Sun G., "Squeeze-and-Excitation Networks", CVPR 2018 (TPAMI 2020),
arXiv 1709.01507. Official code: ``hujie-frank/SENet`` (Caffe).

``SEModule`` computes ``x * gate(FC2(act(FC1(GAP(x)))))`` with ``FC1: C -> C/r`` and ``FC2: C/r -> C``,
both with bias (1x1 convolutions on the pooled map, which equal fully connected layers). The defaults are
the paper's (``r = 16``, ReLU, sigmoid). What differs from the paper is only optional:

* ``gate`` may be a hard sigmoid (:class:`~paddle_tricks.layers.hard_sigmoid.HardSigmoid`) and
  ``divisor`` rounds the squeezed width to a multiple of 8, as MobileNetV3 (Howard et al.,
  arXiv 1905.02244) uses the block;
* the squeezed width can be given directly with ``rd_channels``.

In a residual block the module goes on the residual branch after the last BN and before the add (see
``paddle_tricks.models.resnet``); the official repo fuses the scale and the add into one "Axpy" layer.
"""
from __future__ import annotations

from typing import Callable

import paddle
import paddle.nn as nn

from ..utils.make_divisible import make_divisible
from .create_act import create_act
from .create_attn import register_attn
from .surgery_leaf import SurgeryLeaf

__all__ = ["SEModule"]


@register_attn("se", reduction=16)
class SEModule(SurgeryLeaf, nn.Layer):
    """Squeeze-and-Excitation: rescale each channel by a gate computed from the global average.

    Args:
        channels: input (and output) channels ``C``.
        reduction: reduction ratio ``r``; the squeezed width is ``C // r`` (paper: 16).
        rd_channels: explicit squeezed width; overrides ``reduction``.
        divisor: round the squeezed width to a multiple of this (MobileNetV3 uses 8); 1 = plain ``C // r``.
        min_channels: smallest squeezed width allowed (with ``divisor > 1``: at least ``divisor``).
        act: activation between the two FC layers (name or factory), ReLU in the paper.
        gate: gate name (``'sigmoid'``, ``'hard_sigmoid'``, ``'paddle_hard_sigmoid'``: any name of
            :func:`~paddle_tricks.layers.create_act.create_act`) or factory.

    Attributes:
        record_attention: when set to True, each forward pass keeps its gate values ``(B, C, 1, 1)``
            (detached) in ``last_attention``; off by default so that forward has no side effects.
    """

    def __init__(self, channels: int, reduction: int = 16, rd_channels: int | None = None,
                 divisor: int = 1, min_channels: int = 1,
                 act: str | Callable[[], nn.Layer] = "relu",
                 gate: str | Callable[[], nn.Layer] = "sigmoid"):
        super().__init__()
        if channels < 1 or reduction < 1 or divisor < 1:
            raise ValueError(f"SEModule: channels={channels}, reduction={reduction} and divisor={divisor} "
                             "must be positive")
        if rd_channels is None:
            if divisor == 1:
                rd_channels = max(min_channels, channels // reduction)
            else:
                # min_value None = divisor (the MobileNet rule); a smaller floor would break divisibility
                rd_channels = make_divisible(channels / reduction, divisor,
                                             min_value=min_channels if min_channels > 1 else None)
        self.channels = channels
        self.rd_channels = rd_channels
        self.fc1 = nn.Conv2D(channels, rd_channels, 1)
        self.act = create_act(act)
        self.fc2 = nn.Conv2D(rd_channels, channels, 1)
        try:
            self.gate = create_act(gate)
        except ValueError as e:
            raise ValueError(f"SEModule: gate: {e}") from None
        self.record_attention = False
        self.last_attention = None

    def attention(self, x: paddle.Tensor) -> paddle.Tensor:
        """The per-channel gate ``(B, C, 1, 1)`` for input ``x``."""
        s = x.mean(axis=[2, 3], keepdim=True)
        return self.gate(self.fc2(self.act(self.fc1(s))))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        w = self.attention(x)
        if self.record_attention:
            # plain attribute, not a buffer: it must stay out of buffers() and state_dict()
            object.__setattr__(self, "last_attention", w.detach())
        return x * w

    def extra_repr(self) -> str:
        return f"channels={self.channels}, rd_channels={self.rd_channels}"
