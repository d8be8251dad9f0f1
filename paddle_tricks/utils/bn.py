"""Random BatchNorm statistics, to test folding and fusion on a layer that looks trained.

A fresh ``BatchNorm2D`` (mean 0, variance 1, scale 1, shift 0) is nearly the identity, so a wrong BN fold can
still give the right output on it. Tests and notebooks that check a fusion (ACNet's BN folding, Ding et al.,
ICCV 2019, arXiv 1908.03930; ``paddle_tricks.deploy.reparameterize``) randomise the statistics first.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

__all__ = ["randomise_bn"]


def randomise_bn(layer: nn.Layer) -> nn.Layer:
    """Give every ``BatchNorm2D`` in ``layer`` random running statistics and affine parameters; returns ``layer``.

    Running mean and shift are drawn from U(-0.5, 0.5), running variance from U(0.2, 2) and scale from
    U(0.3, 1.5) (``paddle.seed`` makes them repeatable). Layers without affine parameters keep none.
    """
    for bn in layer.sublayers(include_self=True):
        if not isinstance(bn, nn.BatchNorm2D):
            continue
        channels = bn._mean.shape[0]            # Paddle keeps the running statistics in _mean / _variance
        bn._mean.set_value(paddle.uniform([channels], min=-0.5, max=0.5))
        bn._variance.set_value(paddle.uniform([channels], min=0.2, max=2.0))
        if bn.weight is not None:
            bn.weight.set_value(paddle.uniform([channels], min=0.3, max=1.5))
        if bn.bias is not None:
            bn.bias.set_value(paddle.uniform([channels], min=-0.5, max=0.5))
    return layer
