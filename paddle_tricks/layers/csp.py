"""CSPStage: a cross-stage partial stage around any block factory.

Paper: Chien-Yao Wang et al., "CSPNet: A New Backbone that can Enhance Learning Capability of CNN",
CVPR Workshops 2020, arXiv 1911.11929. Official models: ``WongKinYiu/CrossStagePartialNetworks``
(Darknet ``.cfg`` files: CSPResNet(X)-50, CSPDarknet-53).

Stage layout (the CSPDarknet "fusion last" form, also used by CSPResNet-style ports)::

    x -> down: ConvBNAct 3x3, stride s, in -> C
      -> part A: ConvBNAct 1x1, C -> C/2                              (skips the blocks)
      -> part B: ConvBNAct 1x1, C -> C/2 -> n × block_fn(C/2) -> transition ConvBNAct 1x1, C/2 -> C/2
      -> concat [A, B] (C channels) -> fusion transition ConvBNAct 1x1, C -> C

The blocks run at half width, which is where the saving comes from. Every conv is a
:class:`~paddle_tricks.layers.conv_bn.ConvBNAct` (BN + activation after every transition, as the paper
asks), so model-surgery tools see ordinary ``.conv/.bn/.act`` units.

Differences from the official cfgs: the two halves always come from two 1×1 convs (Darknet style; the
paper's CSPResNeXt splits channels directly), the first CSPDarknet stage (which keeps full-width halves)
is not special-cased, and the activation is a parameter (``'mish'`` / ``'leaky_relu'`` reproduce Darknet).
``block_fn(channels)`` must return a layer that keeps the channel count and the spatial size.
"""
from __future__ import annotations

from typing import Callable

import paddle
import paddle.nn as nn

from paddle_tricks.layers.conv_bn import ConvBNAct

__all__ = ["CSPStage"]


class CSPStage(nn.Layer):
    """Cross-stage partial stage: half the channels bypass the blocks, the other half runs them.

    Args:
        in_channels: input channels.
        out_channels: output channels ``C`` (even: the blocks run at ``C // 2``).
        num_blocks: number of blocks in part B (0 allowed: part B is then only its 1×1 convs).
        block_fn: factory ``block_fn(channels) -> nn.Layer``, called ``num_blocks`` times with ``C // 2``;
            the block must keep channels and spatial size.
        stride: stride of the 3×3 down-sampling ConvBNAct (1 keeps the resolution).
        act: activation of every ConvBNAct (name, factory or ``None``).
    """

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int,
                 block_fn: Callable[[int], nn.Layer], stride: int = 2,
                 act: str | Callable[[], nn.Layer] | None = "relu"):
        super().__init__()
        if out_channels <= 0 or out_channels % 2:
            raise ValueError(f"CSPStage: out_channels={out_channels} must be positive and even "
                             f"(split into two halves)")
        if num_blocks < 0:
            raise ValueError(f"CSPStage: num_blocks={num_blocks} must be >= 0")
        if stride < 1:
            raise ValueError(f"CSPStage: stride={stride} must be >= 1")
        half = out_channels // 2
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.down = ConvBNAct(in_channels, out_channels, 3, stride=stride, act=act)
        self.part_a = ConvBNAct(out_channels, half, 1, act=act)
        self.part_b = ConvBNAct(out_channels, half, 1, act=act)
        blocks = []
        for i in range(num_blocks):
            block = block_fn(half)
            if not isinstance(block, nn.Layer):
                raise ValueError(f"CSPStage: block_fn({half}) must return a paddle.nn.Layer, "
                                 f"got {type(block).__name__} for block {i}")
            blocks.append(block)
        self.blocks = nn.Sequential(*blocks)
        self.trans_b = ConvBNAct(half, half, 1, act=act)
        self.fuse = ConvBNAct(2 * half, out_channels, 1, act=act)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.down(x)
        a = self.part_a(x)
        b = self.trans_b(self.blocks(self.part_b(x)))
        return self.fuse(paddle.concat([a, b], axis=1))

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"num_blocks={len(self.blocks)}, stride={self.stride}")
