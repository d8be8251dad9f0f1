"""Anti-aliased downsampling: ``BlurPool``, ``MaxBlurPool`` and ``ConvBlurPool``.

Paper: Zhang R., "Making Convolutional Networks Shift-Invariant Again", ICML 2019, arXiv 1904.11486.
Official code: ``adobe/antialiased-cnns`` (``antialiased_cnns/blurpool.py``, ``resnet.py``).

``BlurPool`` low-pass filters each channel with a normalised binomial kernel (the outer product of the
binomial row of length ``filt_size``, e.g. ``[1, 3, 3, 1]``, divided by its sum), then subsamples:
pad → depthwise ``conv2d(stride)``. As in the official code the padding is ``floor((k−1)/2)`` on the
left/top and ``ceil((k−1)/2)`` on the right/bottom (reflect by default), ``filt_size`` defaults to 4,
and ``filt_size=1`` is plain subsampling. The filter is a constant, stored as a non-persistable buffer
of shape ``(C, 1, k, k)``: it is no parameter and is not written to checkpoints.

The paper's recipes for existing layers:

* ``MaxPool(k, s=2)`` → :class:`MaxBlurPool`: ``MaxPool(k, s=1)`` → ``BlurPool(s=2)``;
* strided ``conv + ReLU`` → :class:`ConvBlurPool`: ``conv(s=1) + BN + act`` → ``BlurPool(s=2)``.
  The conv part is a :class:`paddle_tricks.layers.conv_bn.ConvBNAct` (the official ResNet keeps BN
  between conv and ReLU, so it is included).

Differences: the 1-D / 3-D variants of the official file are not ported.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_tricks.layers.conv_bn import ConvBNAct
from .surgery_leaf import SurgeryLeaf

__all__ = ["BlurPool", "MaxBlurPool", "ConvBlurPool", "binomial_filter"]

PAD_MODES = {"reflect": "reflect", "refl": "reflect", "replicate": "replicate", "repl": "replicate",
              "zero": "constant", "zeros": "constant", "constant": "constant"}


def binomial_filter(filt_size: int) -> np.ndarray:
    """The normalised 2-D binomial filter of side ``filt_size`` (1–7), summing to one."""
    if not 1 <= filt_size <= 7:
        raise ValueError(f"BlurPool: filt_size must be in 1..7, got {filt_size}")
    row = np.array([math.comb(filt_size - 1, i) for i in range(filt_size)], dtype="float64")
    filt = row[:, None] * row[None, :]
    return (filt / filt.sum()).astype("float32")


class BlurPool(SurgeryLeaf, nn.Layer):
    """Blur with a binomial filter, then subsample (anti-aliased downsampling).

    Args:
        channels: number of input channels (the filter is depthwise).
        filt_size: side of the binomial filter, 1–7 (official default 4; the paper's "Bin-5" is 5).
        stride: subsampling factor.
        pad_type: ``'reflect'`` (default), ``'replicate'`` or ``'zero'``.
        pad_off: extra padding added on every side (official option, default 0).
    """

    def __init__(self, channels: int, filt_size: int = 4, stride: int = 2, pad_type: str = "reflect",
                 pad_off: int = 0):
        super().__init__()
        if channels < 1:
            raise ValueError(f"BlurPool: channels must be >= 1, got {channels}")
        if stride < 1:
            raise ValueError(f"BlurPool: stride must be >= 1, got {stride}")
        if pad_type not in PAD_MODES:
            raise ValueError(f"BlurPool: unknown pad_type '{pad_type}'; choose one of {sorted(PAD_MODES)}")
        filt = binomial_filter(filt_size)
        self.channels, self.filt_size, self.stride, self.pad_off = channels, filt_size, stride, pad_off
        self.pad_mode = PAD_MODES[pad_type]
        lo, hi = (filt_size - 1) // 2 + pad_off, math.ceil((filt_size - 1) / 2) + pad_off
        self.pad_sizes = [lo, hi, lo, hi]  # left, right, top, bottom
        self.register_buffer("filt", paddle.to_tensor(np.tile(filt[None, None], (channels, 1, 1, 1))),
                             persistable=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.filt_size == 1 and self.pad_off == 0:
            return x[:, :, ::self.stride, ::self.stride]
        if any(self.pad_sizes):
            x = F.pad(x, self.pad_sizes, mode=self.pad_mode)
        if self.filt_size == 1:
            return x[:, :, ::self.stride, ::self.stride]
        return F.conv2d(x, self.filt.astype(x.dtype), stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, filt_size={self.filt_size}, stride={self.stride}, pad_mode={self.pad_mode}"


class MaxBlurPool(SurgeryLeaf, nn.Layer):
    """``MaxPool(kernel_size, stride=1)`` → ``BlurPool(stride)``: the anti-aliased max-pool.

    Args:
        channels: number of channels.
        kernel_size: max-pool window (the official ResNet stem uses 2).
        filt_size: blur filter size.
        stride: downsampling factor of the blur.
    """

    def __init__(self, channels: int, kernel_size: int = 2, filt_size: int = 4, stride: int = 2):
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"MaxBlurPool: kernel_size must be >= 1, got {kernel_size}")
        self.pool = nn.MaxPool2D(kernel_size, stride=1)
        self.blur = BlurPool(channels, filt_size=filt_size, stride=stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.blur(self.pool(x))


class ConvBlurPool(nn.Layer):
    """``conv(stride=1) → BN → act`` → ``BlurPool(stride)``: the anti-aliased strided conv.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: conv kernel size ("same" padding).
        stride: downsampling factor, applied by the blur.
        groups: conv groups.
        act: activation name or factory (see ``create_act``).
        filt_size: blur filter size.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 2,
                 groups: int = 1, act: str | Callable[[], nn.Layer] | None = "relu", filt_size: int = 4):
        super().__init__()
        self.conv = ConvBNAct(in_channels, out_channels, kernel_size, stride=1, groups=groups, act=act)
        self.blur = BlurPool(out_channels, filt_size=filt_size, stride=stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.blur(self.conv(x))
