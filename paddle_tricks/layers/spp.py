"""Spatial pyramid pooling (SPP-net): a fixed-length vector from a feature map of any size.

Paper: He K., Zhang X., Ren S., Sun J., "Spatial Pyramid Pooling in Deep Convolutional Networks for
Visual Recognition", ECCV 2014 / TPAMI 2015, arXiv 1406.4729. Official code: ``ShaoqingRen/SPP_net``
(Caffe + MATLAB).

For each pyramid level ``n`` the map is max-pooled into an ``n×n`` grid of bins, flattened, and the
levels are concatenated, giving ``C·Σn²`` features whatever the input height and width.

Differences: bins come from ``adaptive_max_pool2d`` (bin ``i`` spans ``[floor(i·a/n), ceil((i+1)·a/n))``),
which always yields exactly ``n×n`` bins. The paper's window/stride rule (``ceil(a/n)``, ``floor(a/n)``)
does not (for ``a=7, n=4`` it gives 6 bins per side), and the padded-pool formula of the source tutorial
fails for some sizes. The default levels are ``(4, 2, 1)`` for small (CIFAR-size) maps; the paper uses
``(6, 3, 2, 1)`` on the 13×13 conv5 map of ImageNet-size inputs.
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .surgery_leaf import SurgeryLeaf

__all__ = ["SpatialPyramidPooling"]


class SpatialPyramidPooling(SurgeryLeaf, nn.Layer):
    """Pool an ``(N, C, H, W)`` map into ``(N, C·Σ n²)`` for the pyramid ``levels``.

    The features are ordered level by level, each level as the row-major flattening of its
    ``(C, n, n)`` grid (channel-major), as in the official implementation.

    Args:
        levels: grid sizes ``n`` of the pyramid levels (each >= 1).
        pool_type: ``'max'`` (paper) or ``'avg'``.
    """

    def __init__(self, levels: Sequence[int] = (4, 2, 1), pool_type: str = "max"):
        super().__init__()
        levels = tuple(int(n) for n in levels)
        if not levels or any(n < 1 for n in levels):
            raise ValueError(f"SpatialPyramidPooling: levels must be a non-empty list of sizes >= 1, got {levels}")
        if pool_type not in ("max", "avg"):
            raise ValueError(f"SpatialPyramidPooling: pool_type must be 'max' or 'avg', got '{pool_type}'")
        self.levels = levels
        self.pool_type = pool_type

    def output_size(self, channels: int) -> int:
        """Length of the output vector for ``channels`` input channels: ``C·Σ n²``."""
        return channels * sum(n * n for n in self.levels)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        pool = F.adaptive_max_pool2d if self.pool_type == "max" else F.adaptive_avg_pool2d
        return paddle.concat([paddle.flatten(pool(x, n), start_axis=1) for n in self.levels], axis=1)

    def extra_repr(self) -> str:
        return f"levels={self.levels}, pool_type={self.pool_type}"
