"""DropBlock: structured dropout that drops contiguous square regions of a feature map.

Paper: Ghiasi G., Lin T.-Y., Le Q. V., "DropBlock: A regularization method for convolutional networks",
NeurIPS 2018, arXiv 1810.12890. Official code: ``tensorflow/tpu``,
``models/official/resnet/resnet_model.py::dropblock``.

Follows the official function:

* seeds are Bernoulli(γ) with ``γ = (1 − keep_prob)·H·W / (bs²·(H − bs + 1)·(W − bs + 1))`` (the
  official ``W²/bs²/(W − bs + 1)²`` for square maps), drawn only in the valid centre region so that every
  block lies fully inside the map;
* the noise has the full ``(N, C, H, W)`` shape, so every channel gets its own mask;
* each seed is grown into a ``bs×bs`` block by a stride-1 max-pool with TF "SAME" padding (for even
  ``bs`` the extra row/column of padding goes to the bottom/right, as in TF);
* the output is ``x · mask / (fraction of ones in the whole mask)``; evaluation mode is the identity;
* ``bs`` is clipped to the map size; ``bs`` equal to the map drops whole channels.

The paper schedules ``keep_prob`` linearly from 1.0 to its final value (0.9) over training: call
``set_keep_prob`` / :func:`set_dropblock_keep_prob` with :func:`linear_keep_prob` from any training loop
or callback. Differences: rectangular maps are supported with the formula above; if every unit of the
tensor is dropped the output is zero (the official code divides by zero).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .surgery_leaf import SurgeryLeaf

__all__ = ["DropBlock", "linear_keep_prob", "set_dropblock_keep_prob"]


def _check_keep_prob(keep_prob: float) -> float:
    keep_prob = float(keep_prob)
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"DropBlock: keep_prob must be in (0, 1], got {keep_prob}")
    return keep_prob


def linear_keep_prob(step: int, total: int, final: float = 0.9, start: float = 1.0) -> float:
    """The paper's schedule: ``keep_prob`` decreases linearly from ``start`` to ``final`` over ``total`` steps.

    Args:
        step: current step (or epoch); values beyond ``total`` give ``final``.
        total: number of steps of the ramp (> 0).
        final: keep probability reached at ``step >= total``.
        start: keep probability at step 0.

    Returns:
        The keep probability for ``step``.
    """
    if total <= 0:
        raise ValueError(f"linear_keep_prob: total must be > 0, got {total}")
    _check_keep_prob(final)
    _check_keep_prob(start)
    frac = min(max(step / total, 0.0), 1.0)
    return start + (final - start) * frac


def set_dropblock_keep_prob(model: nn.Layer, keep_prob: float) -> int:
    """Set ``keep_prob`` of every :class:`DropBlock` inside ``model``; returns how many were set."""
    count = 0
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, DropBlock):
            layer.set_keep_prob(keep_prob)
            count += 1
    return count


class DropBlock(SurgeryLeaf, nn.Layer):
    """Drop ``block_size × block_size`` regions of each channel independently during training.

    Args:
        block_size: side of the dropped squares (paper: 7).
        keep_prob: probability of keeping a unit (paper: 0.9 at the end of a linear ramp from 1.0).
    """

    def __init__(self, block_size: int = 7, keep_prob: float = 0.9):
        super().__init__()
        if int(block_size) != block_size or block_size < 1:
            raise ValueError(f"DropBlock: block_size must be a positive integer, got {block_size}")
        self.block_size = int(block_size)
        self.keep_prob = _check_keep_prob(keep_prob)

    def set_keep_prob(self, keep_prob: float) -> None:
        """Change the keep probability (for the linear schedule)."""
        self.keep_prob = _check_keep_prob(keep_prob)

    def gamma(self, height: int, width: int) -> float:
        """Seed probability γ for an ``height × width`` map (official formula, rectangular form)."""
        bs = min(self.block_size, height, width)
        return ((1.0 - self.keep_prob) * height * width
                / (bs * bs * (height - bs + 1) * (width - bs + 1)))

    def block_mask(self, noise: paddle.Tensor) -> paddle.Tensor:
        """The keep mask (1 = keep) for uniform ``noise`` in [0, 1) of shape ``(N, C, H, W)``."""
        h, w = noise.shape[2], noise.shape[3]
        bs = min(self.block_size, h, w)
        gamma = self.gamma(h, w)
        # valid seed centres: rows bs//2 .. h-1-(bs-1)//2 (and the same for columns)
        rows = paddle.arange(h)
        cols = paddle.arange(w)
        valid_r = paddle.logical_and(rows >= bs // 2, rows < h - (bs - 1) // 2)
        valid_c = paddle.logical_and(cols >= bs // 2, cols < w - (bs - 1) // 2)
        valid = paddle.logical_and(valid_r.unsqueeze(1), valid_c.unsqueeze(0))
        seeds = paddle.logical_and(noise < gamma, valid).astype(noise.dtype)
        # grow each seed into a bs×bs block: TF SAME padding, extra pad at bottom/right for even bs
        lo, hi = (bs - 1) // 2, bs - 1 - (bs - 1) // 2
        dropped = F.max_pool2d(F.pad(seeds, [lo, hi, lo, hi]), bs, stride=1)
        return 1.0 - dropped

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if not self.training or self.keep_prob >= 1.0:
            return x
        mask = self.block_mask(paddle.rand(x.shape, dtype="float32")).astype(x.dtype)
        kept = paddle.clip(mask.mean(), min=1e-12)
        return x * mask / kept

    def extra_repr(self) -> str:
        return f"block_size={self.block_size}, keep_prob={self.keep_prob}"
