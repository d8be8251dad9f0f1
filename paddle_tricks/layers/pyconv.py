"""PyConv: a pyramid of kernel sizes and group counts applied in parallel to the same input.

Paper: Ionut Cosmin Duta, Li Liu, Fan Zhu, Ling Shao, "Pyramidal Convolution: Rethinking
Convolutional Neural Networks for Visual Recognition", 2020, arXiv 2006.11538. Official code:
``iduta/pyconv`` (``models/pyconvresnet.py``, ``PyConv2d`` / ``PyConv2``-``PyConv4``).

Each pyramid level is an ordinary (grouped) convolution ``Conv2D(in_channels, out_i, k_i,
stride, padding=k_i // 2, groups=g_i, bias=False)``; the level outputs are concatenated along the
channels in level order. :meth:`PyConv.for_stage` builds the per-stage pyramids of PyConvResNet:

====== ============== ============== ===================
stage  kernels        groups         output split
====== ============== ============== ===================
1      3, 5, 7, 9     1, 4, 8, 16    1/4, 1/4, 1/4, 1/4
2      3, 5, 7        1, 4, 8        1/4, 1/4, 1/2
3      3, 5           1, 4           1/2, 1/2
4      3              1              1
====== ============== ============== ===================

Differences from the official code: the official presets use ``planes // 4`` etc., which silently drops
channels when ``out_channels`` is not divisible; here every split and group count must divide exactly
or a ``ValueError`` names the offending level. Dilation is not exposed (the official ``PyConv2d`` pads
``k // 2`` whatever the dilation, which is only 'same' padding for dilation 1).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import paddle
import paddle.nn as nn
from .surgery_leaf import SurgeryLeaf

__all__ = ["PyConv", "PYCONV_STAGES"]

#: stage -> (kernels, groups, output fractions) of PyConvResNet (official ``pyconvresnet.py``).
PYCONV_STAGES: dict[int, tuple[tuple[int, ...], tuple[int, ...], tuple[Fraction, ...]]] = {
    1: ((3, 5, 7, 9), (1, 4, 8, 16), (Fraction(1, 4),) * 4),
    2: ((3, 5, 7), (1, 4, 8), (Fraction(1, 4), Fraction(1, 4), Fraction(1, 2))),
    3: ((3, 5), (1, 4), (Fraction(1, 2), Fraction(1, 2))),
    4: ((3,), (1,), (Fraction(1),)),
}


def _split_channels(out_channels: int, splits: Sequence[float | Fraction]) -> list[int]:
    counts = []
    for i, f in enumerate(splits):
        frac = Fraction(f).limit_denominator(1000)
        n = out_channels * frac
        if n.denominator != 1 or n <= 0:
            raise ValueError(f"PyConv: split {frac} of out_channels={out_channels} at level {i} "
                             f"must be a positive whole number of channels")
        counts.append(int(n))
    if sum(counts) != out_channels:
        raise ValueError(f"PyConv: splits {[str(Fraction(f).limit_denominator(1000)) for f in splits]} "
                         f"give {sum(counts)} channels, not out_channels={out_channels} (they must sum to 1)")
    return counts


class PyConv(SurgeryLeaf, nn.Layer):
    """Pyramidal convolution: parallel levels with their own kernel size and groups, concatenated.

    Args:
        in_channels: input channels (every level sees all of them).
        out_channels: total output channels (split by ``splits``), or one count per level.
        kernels: kernel size per level (odd sizes give 'same' padding ``k // 2``).
        groups: groups per level; each must divide ``in_channels`` and that level's output channels.
        splits: fraction of ``out_channels`` per level (must sum to 1); default equal shares.
            Ignored when ``out_channels`` is a list.
        stride: stride of every level.
    """

    def __init__(self, in_channels: int, out_channels: int | Sequence[int], kernels: Sequence[int],
                 groups: Sequence[int], splits: Sequence[float | Fraction] | None = None, stride: int = 1):
        super().__init__()
        kernels, groups = list(kernels), list(groups)
        if not kernels or len(kernels) != len(groups):
            raise ValueError(f"PyConv: kernels {kernels} and groups {groups} must be non-empty and of the "
                             f"same length")
        if isinstance(out_channels, int):
            if splits is None:
                splits = [Fraction(1, len(kernels))] * len(kernels)
            if len(splits) != len(kernels):
                raise ValueError(f"PyConv: {len(splits)} splits for {len(kernels)} levels")
            level_out = _split_channels(out_channels, splits)
        else:
            level_out = [int(c) for c in out_channels]
            if len(level_out) != len(kernels) or min(level_out) <= 0:
                raise ValueError(f"PyConv: out_channels per level {level_out} must be positive, one per "
                                 f"kernel {kernels}")
        for i, (k, g, c) in enumerate(zip(kernels, groups, level_out)):
            if k < 1 or k % 2 == 0:
                raise ValueError(f"PyConv: kernel size {k} at level {i} must be odd (padding k//2)")
            if g < 1 or in_channels % g or c % g:
                raise ValueError(f"PyConv: groups={g} at level {i} must divide in_channels={in_channels} "
                                 f"and the level's out_channels={c}")
        self.in_channels = in_channels
        self.out_channels = sum(level_out)
        self.kernels = kernels
        self.groups = groups
        self.level_channels = level_out
        self.stride = stride
        self.levels = nn.LayerList([
            nn.Conv2D(in_channels, c, k, stride=stride, padding=k // 2, groups=g, bias_attr=False)
            for k, g, c in zip(kernels, groups, level_out)
        ])

    @classmethod
    def for_stage(cls, in_channels: int, out_channels: int, stage: int, stride: int = 1) -> "PyConv":
        """The PyConvResNet pyramid of ``stage`` (1-4), see the table in the module docstring."""
        if stage not in PYCONV_STAGES:
            raise ValueError(f"PyConv: stage={stage} must be one of {sorted(PYCONV_STAGES)}")
        kernels, groups, splits = PYCONV_STAGES[stage]
        return cls(in_channels, out_channels, kernels, groups, splits, stride=stride)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return paddle.concat([level(x) for level in self.levels], axis=1)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.level_channels}, kernels={self.kernels}, "
                f"groups={self.groups}, stride={self.stride}")
