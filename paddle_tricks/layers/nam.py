"""NAM: normalization-based attention, using BatchNorm scale factors as (detached) channel importances.

Paper: Yichao Liu, Zongru Shao, Yueyang Teng, Nikolaus Hoffmann, "NAM: Normalization-based Attention
Module", NeurIPS 2021 Workshop ImageNet-PPF, arXiv 2111.12419. Official code: ``Christian-lyc/NAM``
(``MODELS/attention.py``, ``train_cifar100.py``).

Channel attention (the final official code, which is channel-only)::

    x_bn = BN(x);  w = |γ| / Σ|γ|  (γ = BN weight, detached: ``.data`` in the official code)
    out  = sigmoid(x_bn · w) ⊙ x

``w`` carries no gradient, so γ learns only through BN's normal path. In the official ResNets NAM sits
at the end of every residual branch (after the last BN, before the addition).

Spatial attention (``spatial=True``) follows an *early* official commit (768b859 / afbaf4c, later
removed): after the channel gate, the H·W pixels are treated as the channels of a ``BatchNorm1D(H·W)``
over ``[B, H·W, C]``, with the same ``|λ|/Σ|λ|`` gate. Its BN has one weight per pixel, so H and W are
fixed at construction (``spatial_size``; 56 on ImageNet and 32 on CIFAR in that commit).

Sparsity: with the official ``--sr`` flag, ``grad(γ) += s·sign(γ)`` (s = 1e-4) is applied to the NAM BN
weights only, after ``backward`` and before the optimizer step; see :func:`nam_sparsity_` (call it
between ``loss.backward()`` and ``opt.step()``) or :func:`add_nam_sparsity_hooks` (gradient hooks, for
training loops you do not control, such as ``paddle.Model.fit``).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .create_attn import register_attn
from .surgery_leaf import SurgeryLeaf

__all__ = ["NAM", "nam_sparsity_", "add_nam_sparsity_hooks"]


def _normalized_abs(weight: paddle.Tensor) -> paddle.Tensor:
    g = weight.detach().abs()
    return g / g.sum()


@register_attn("nam")
class NAM(SurgeryLeaf, nn.Layer):
    """Normalization-based attention (channel gate, optional early-commit spatial gate).

    Args:
        channels: input channels ``C``.
        spatial: also apply the pixel-wise gate of the early official commit.
        spatial_size: ``H`` (square) or ``(H, W)`` of the input; required when ``spatial=True``.
    """

    def __init__(self, channels: int, spatial: bool = False, spatial_size: int | Sequence[int] | None = None):
        super().__init__()
        if channels <= 0:
            raise ValueError(f"NAM: channels={channels} must be positive")
        self.channels = channels
        self.bn = nn.BatchNorm2D(channels)
        self.spatial = spatial
        self.spatial_size: tuple[int, int] | None = None
        self.spatial_bn = None
        if spatial:
            if spatial_size is None:
                raise ValueError("NAM: spatial=True needs spatial_size=H or (H, W) (its BN has one weight per pixel)")
            hw = (spatial_size, spatial_size) if isinstance(spatial_size, int) else tuple(spatial_size)
            if len(hw) != 2 or min(hw) <= 0:
                raise ValueError(f"NAM: spatial_size={spatial_size} must be a positive int or (H, W)")
            self.spatial_size = (int(hw[0]), int(hw[1]))
            self.spatial_bn = nn.BatchNorm1D(self.spatial_size[0] * self.spatial_size[1])

    def norm_layers(self) -> list[nn.Layer]:
        """The BN layers whose weights act as attention importances (targets of the sparsity term)."""
        return [self.bn] + ([self.spatial_bn] if self.spatial_bn is not None else [])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        w = _normalized_abs(self.bn.weight).reshape([1, -1, 1, 1])
        out = F.sigmoid(self.bn(x) * w) * x
        if self.spatial_bn is not None:
            h, wd = x.shape[2], x.shape[3]
            if h > 0 and wd > 0 and (h, wd) != self.spatial_size:  # -1 = unknown size while tracing
                raise ValueError(f"NAM: spatial gate built for spatial_size={self.spatial_size}, got {h}x{wd}")
            t = out.flatten(2).transpose([0, 2, 1])            # [B, H·W, C]: pixels are BN1D's channels
            t = self.spatial_bn(t).transpose([0, 2, 1])        # [B, C, H·W]
            t = t * _normalized_abs(self.spatial_bn.weight).reshape([1, 1, -1])
            out = F.sigmoid(paddle.reshape(t, paddle.shape(out))) * out
        return out

    def extra_repr(self) -> str:
        return f"channels={self.channels}, spatial={self.spatial_size if self.spatial else False}"


def _nam_weights(model: nn.Layer) -> list[paddle.Tensor]:
    return [bn.weight for m in model.sublayers(include_self=True) if isinstance(m, NAM) for bn in m.norm_layers()]


def nam_sparsity_(model: nn.Layer, s: float = 1e-4) -> int:
    """Add the L1 subgradient ``s·sign(γ)`` to the gradients of every NAM BN weight in ``model``.

    Call after ``loss.backward()`` and before ``optimizer.step()``. Weights without a gradient are
    skipped. Returns the number of weight tensors updated.
    """
    n = 0
    with paddle.no_grad():
        for p in _nam_weights(model):
            if p.grad is None:
                continue
            p.grad.add_((s * paddle.sign(p.detach())).astype(p.grad.dtype))
            n += 1
    return n


def add_nam_sparsity_hooks(model: nn.Layer, s: float = 1e-4) -> list:
    """Register gradient hooks adding ``s·sign(γ)`` to every NAM BN weight's gradient during backward.

    Equivalent to calling :func:`nam_sparsity_` after each backward (γ does not change during backward).
    Returns the hook handles; call ``.remove()`` on them to switch the term off.
    """
    handles = []
    for p in _nam_weights(model):
        def hook(grad, p=p):
            return grad + (s * paddle.sign(p.detach())).astype(grad.dtype)
        handles.append(p.register_hook(hook))
    return handles
