"""``downsample: blurpool``: BlurPool anti-aliasing (Zhang, "Making Convolutional Networks Shift-Invariant
Again", ICML 2019, arXiv 1904.11486) as a type of the ``downsample`` trick.

Options: ``filt_size`` (4, the official default) and ``pad_type`` (reflect). A strided max-pool becomes a
:class:`~paddle_tricks.layers.MaxBlurPool` whose max-pool keeps its kernel and padding at stride 1, so every
feature-map size of the original net is kept.
"""
from __future__ import annotations

import paddle.nn as nn

from ..layers.blurpool import BlurPool, MaxBlurPool
from .downsample import Downsampler, register_downsample

__all__ = ["BLURPOOL"]


def _blur(channels: int, stride: int, opts: dict) -> BlurPool:
    return BlurPool(channels, filt_size=opts["filt_size"], stride=stride, pad_type=opts["pad_type"])


def _max_blur(pool: nn.MaxPool2D, channels: int, stride: int, opts: dict) -> MaxBlurPool:
    new = MaxBlurPool(channels, kernel_size=2, filt_size=opts["filt_size"], stride=stride)
    new.blur = _blur(channels, stride, opts)
    new.pool = nn.MaxPool2D(pool.ksize, stride=1, padding=pool.padding, ceil_mode=pool.ceil_mode)
    return new


def _check_reflect(h: int, w: int, opts: dict, probe_size: int) -> None:
    """Reflect padding needs a map larger than the pad; say which size is too small and the fixes."""
    pad = opts["filt_size"] // 2  # ceil((filt - 1) / 2), the larger side
    if opts["pad_type"] in ("reflect", "refl") and min(h, w) <= pad:
        raise ValueError(
            f"tricks.downsample=blurpool: a {h}x{w} map at input_size={probe_size} is too small "
            f"for reflect padding of {pad} (filt_size={opts['filt_size']}); use pad_type: replicate (or zero), "
            f"a smaller filt_size or larger images (and set tricks.input_size to the training size)")


BLURPOOL = register_downsample("blurpool", Downsampler(_blur, _max_blur, _check_reflect),
                               filt_size=4, pad_type="reflect")
