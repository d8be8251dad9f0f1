"""Dynamic ReLU: DY-ReLU-A (spatial- and channel-shared), -B (channel-wise) and -C (spatial and channel-wise).

Paper: Chen Y., Dai X., Liu M., Chen D., Yuan L., Liu Z., "Dynamic ReLU", ECCV 2020, arXiv 2003.10027.
There is no official code; A and B follow the reference implementation ``Islanna/DynamicReLU``
(``dyrelu.py``), C follows the paper.

``y_c = max_k (a_c^k(x)·x_c + b_c^k(x))`` with ``K`` linear pieces whose coefficients come from a
hyper-function of the whole input: ``GAP → FC(C → C/R) → ReLU → FC → 2σ(·) − 1`` gives residuals
``θ ∈ [−1, 1]``, and ``(a^1..a^K, b^1..b^K) = θ·λ + init`` with ``λ = (1,…,1, 0.5,…,0.5)`` and
``init = (1, 0, …, 0)`` (``a^1 = 1``, the rest 0), so that ``θ = 0`` is exactly ReLU. ``λ`` and ``init``
are constants, stored as non-persistable buffers (not trained, not in checkpoints), as in the reference.

* :class:`DyReLUA`: the hyper-function outputs ``2K`` numbers per sample, shared by all channels and positions.
* :class:`DyReLUB`: ``2KC`` numbers per sample, one set per channel.
* :class:`DyReLUC`: as B, and both ``a`` and ``b`` are multiplied at each position by a spatial attention
  ``π_hw = min(γ·softmax_hw(conv1×1(x)/τ), 1)``, ``τ = 10``, ``γ = HW/3`` (paper), i.e.
  ``a_chw = a_c·π_hw`` and ``b_chw = b_c·π_hw``. C has no reference code; scaling both slopes and
  intercepts by π is our reading of the paper (public re-implementations do the same). Note that a uniform
  attention is ``π = 1/3``, so with ``θ = 0`` DY-ReLU-C computes ``π·ReLU(x)`` rather than ``ReLU(x)``.

Differences: the reduction defaults to ``R = 4`` as in the reference code (the paper uses 8); the
hidden width is ``C // R`` and must be at least 1. ``K = 2`` by default.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .create_act import register_act
from .surgery_leaf import SurgeryLeaf

__all__ = ["DyReLUA", "DyReLUB", "DyReLUC"]


_HYPER_OPTIONS = {"reduction": 4, "k": 2}  # options of the ``act`` trick (the reference defaults)


class _DyReLU(SurgeryLeaf, nn.Layer):
    """Shared hyper-function; the class attribute ``per_channel`` selects ``2K`` (A) or ``2KC`` (B, C) outputs."""

    per_channel = True

    def __init__(self, channels: int, reduction: int = 4, k: int = 2, lambda_a: float = 1.0, lambda_b: float = 0.5):
        super().__init__()
        name = type(self).__name__
        if channels < 1 or reduction < 1 or k < 1:
            raise ValueError(f"{name}: channels, reduction and k must be >= 1, got "
                             f"channels={channels}, reduction={reduction}, k={k}")
        if channels // reduction < 1:
            raise ValueError(f"{name}: the hidden width channels // reduction must be >= 1, got "
                             f"channels={channels}, reduction={reduction}")
        self.channels, self.k = channels, k
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(channels // reduction, 2 * k * (channels if self.per_channel else 1))
        self.register_buffer("lambdas", paddle.to_tensor([lambda_a] * k + [lambda_b] * k, dtype="float32"),
                             persistable=False)
        self.register_buffer("init_v", paddle.to_tensor([1.0] + [0.0] * (2 * k - 1), dtype="float32"),
                             persistable=False)

    def coefficients(self, x: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Slopes ``a`` and intercepts ``b``, each of shape ``(N, C or 1, 1, 1, K)``."""
        if 0 < x.shape[1] != self.channels:
            raise ValueError(f"{type(self).__name__}: expected {self.channels} input channels, got {x.shape[1]}")
        theta = self.fc2(self.relu(self.fc1(x.mean(axis=[2, 3]))))
        theta = 2.0 * F.sigmoid(theta) - 1.0
        c = self.channels if self.per_channel else 1
        coefs = theta.reshape([-1, c, 2 * self.k]) * self.lambdas.astype(x.dtype) + self.init_v.astype(x.dtype)
        coefs = coefs.reshape([-1, c, 1, 1, 2 * self.k])
        return coefs[:, :, :, :, :self.k], coefs[:, :, :, :, self.k:]

    def _piecewise(self, x: paddle.Tensor, a: paddle.Tensor, b: paddle.Tensor) -> paddle.Tensor:
        return (x.unsqueeze(-1) * a + b).max(axis=-1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        a, b = self.coefficients(x)
        return self._piecewise(x, a, b)

    def extra_repr(self) -> str:
        return f"{self.channels}, k={self.k}"


@register_act("dyrelu_a", channels=True, trick_options=dict(_HYPER_OPTIONS))
class DyReLUA(_DyReLU):
    """DY-ReLU-A: one piecewise-linear function per sample, shared by all channels and positions.

    Arguments as :class:`DyReLUB`.
    """

    per_channel = False


@register_act("dyrelu_b", channels=True, trick_options=dict(_HYPER_OPTIONS))
class DyReLUB(_DyReLU):
    """DY-ReLU-B: one piecewise-linear function per sample and channel.

    Args:
        channels: input channels ``C``.
        reduction: hidden width ``C // reduction`` of the hyper-function (reference: 4, paper: 8).
        k: number of linear pieces ``K``.
    """

    per_channel = True


@register_act("dyrelu_c", channels=True, trick_options={**_HYPER_OPTIONS, "tau": 10.0, "gamma_scale": 1.0 / 3.0})
class DyReLUC(_DyReLU):
    """DY-ReLU-C: channel-wise coefficients scaled by a spatial attention ``π ≤ 1``.

    Args:
        channels: input channels ``C``.
        reduction: hidden width ``C // reduction`` of the hyper-function (reference: 4, paper: 8).
        k: number of linear pieces ``K``.
        tau: softmax temperature ``τ`` (paper: 10).
        gamma_scale: ``γ = gamma_scale·H·W`` (paper: 1/3).
    """

    def __init__(self, channels: int, reduction: int = 4, k: int = 2, tau: float = 10.0,
                 gamma_scale: float = 1.0 / 3.0):
        super().__init__(channels, reduction, k)
        if tau <= 0 or gamma_scale <= 0:
            raise ValueError(f"DyReLUC: tau and gamma_scale must be > 0, got tau={tau}, gamma_scale={gamma_scale}")
        self.tau, self.gamma_scale = float(tau), float(gamma_scale)
        self.spatial = nn.Conv2D(channels, 1, 1)

    def spatial_attention(self, x: paddle.Tensor) -> paddle.Tensor:
        """``π`` of shape ``(N, 1, H, W)``: ``min(γ·softmax over H·W of conv1×1(x)/τ, 1)``, ``γ = HW/3``."""
        z = self.spatial(x)                                   # N,1,H,W
        flat = z.flatten(start_axis=1)                        # N,HW
        hw = paddle.shape(flat)[1].astype(x.dtype)
        pi = paddle.minimum(F.softmax(flat / self.tau, axis=1) * (self.gamma_scale * hw),
                            paddle.ones([], dtype=x.dtype))
        return pi.reshape(paddle.shape(z))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        a, b = self.coefficients(x)                           # N,C,1,1,K
        pi = self.spatial_attention(x).unsqueeze(-1)          # N,1,H,W,1
        return self._piecewise(x, a * pi, b * pi)

    def extra_repr(self) -> str:
        return f"{self.channels}, k={self.k}, tau={self.tau}, gamma_scale={self.gamma_scale}"
