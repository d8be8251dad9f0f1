"""ResNeSt-50: ResNet-D with Split-Attention bottlenecks.

Paper: Zhang H. et al., "ResNeSt: Split-Attention Networks", arXiv 2004.08955 (2020; CVPR Workshops 2022).
Official code: ``zhanghang1989/ResNeSt`` (``resnest/torch/models/resnet.py``, ``splat.py``); ``resnest50`` is
``radix=2, groups=1, bottleneck_width=64, deep_stem=True, stem_width=32, avg_down=True, avd=True,
avd_first=False``:

* deep stem 3x3/2 (32) → 3x3 (32) → 3x3 (64) → BN, ReLU → max-pool;
* bottleneck: 1x1 → ``SplitAttention`` 3x3 (radix 2, cardinality 1) → [avd: 3x3 average pool, stride 2,
  padding counted, only in blocks that downsample] → 1x1 x4;
* shortcuts: average pool (ceil mode, padding not counted) then 1x1 conv + BN.

Differences: ``fc1`` of each split-attention layer has no bias (see ``paddle_tricks.layers.split_attention``),
1,888 parameters fewer than the official 27.48 M; DropBlock and the rectified convolution are not built in.
"""
from __future__ import annotations

from typing import Callable

import paddle.nn as nn

from ..layers.split_attention import SplitAttention
from .registry import IMAGENET, register_model
from .options import signature_options
from .resnet import Bottleneck, ResNet

__all__ = ["ResNeStBottleneck", "resnest50"]


class ResNeStBottleneck(Bottleneck):
    """Bottleneck whose 3x3 is a split-attention convolution, with the ``avd`` average-pool downsampling.

    Args:
        in_channels: input channels.
        planes: bottleneck planes; output is ``4 * planes``.
        stride: stride of the block.
        downsample: shortcut layer, ``None`` for identity.
        groups: cardinality.
        base_width: width per cardinal group (64 in ResNeSt-50).
        attn_layer: optional extra attention after the last BN.
        act: activation name or factory.
        radix: splits per cardinal group.
        avd: downsample with a 3x3 average pool instead of a strided 3x3 conv.
        avd_first: put that pool before the split-attention conv ("fast" variants) instead of after it.
    """

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Layer | None = None,
                 groups: int = 1, base_width: int = 64, attn_layer=None,
                 act: str | Callable[[], nn.Layer] = "relu", radix: int = 2, avd: bool = True,
                 avd_first: bool = False):
        self._radix = radix
        use_avd = avd and stride > 1
        super().__init__(in_channels, planes, stride=1 if use_avd else stride, downsample=downsample,
                         groups=groups, base_width=base_width, attn_layer=attn_layer, act=act)
        # torch AvgPool2d counts the padding by default (count_include_pad=True): exclusive=False
        pool = nn.AvgPool2D(3, stride, padding=1, exclusive=False) if use_avd else None
        self.avd_first = avd_first
        self.avd_pool = pool if pool is not None else nn.Identity()

    def _make_conv2(self, width: int, stride: int, groups: int, act) -> nn.Layer:
        return SplitAttention(width, width, 3, stride=stride, cardinality=groups, radix=self._radix, act=act)

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.conv1(x)
        if self.avd_first:
            out = self.conv2(self.avd_pool(out))
        else:
            out = self.avd_pool(self.conv2(out))
        out = self.attn(self.conv3(out))
        return self.act(out + shortcut)


@register_model(IMAGENET, options_from=(ResNet,),
                options=signature_options(ResNeStBottleneck, only=("radix", "avd", "avd_first")))
def resnest50(num_classes: int = 1000, **options) -> ResNet:
    """ResNeSt-50 (2s1x64d, deep stem, avg-down, avd); about 27.5 M parameters."""
    block_kwargs = {k: options.pop(k) for k in ("radix", "avd", "avd_first") if k in options}
    options.setdefault("stem_type", "deep")
    options.setdefault("stem_width", 32)
    options.setdefault("avg_down", True)
    return ResNet(ResNeStBottleneck, (3, 4, 6, 3), num_classes=num_classes, block_kwargs=block_kwargs,
                  **options)
