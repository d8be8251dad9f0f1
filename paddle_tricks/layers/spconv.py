"""SPConv: a drop-in 3×3 convolution that treats part of its input channels as redundant.

Paper: Qiulin Zhang et al., "Split to Be Slim: An Overlooked Redundancy in Vanilla Convolution",
IJCAI 2020, arXiv 2006.12085. Official code: ``qiulinzhang/SPConv.pytorch`` (``code/resnet_sp.py``,
class ``SPConv_3x3``), which this port follows:

* the first ``int(in_channels * ratio)`` input channels are the *representative* part: a group-wise
  3×3 conv (``groups=2``, hard-coded as in the official code, stride ``s``, padding 1) plus a point-wise
  1×1 conv (its input average-pooled 2×2 when ``s == 2``), summed, then BatchNorm;
* the remaining channels are the *redundant* part: AvgPool(2) when ``s == 2``, a 1×1 conv **with bias**
  (the PyTorch ``nn.Conv2d`` default used there), then BatchNorm;
* parameter-free fusion: global average pooling of each BN output, softmax over the two branches per
  output channel, weighted sum.

Differences from the official code:

* the official stride-2 path pools an undefined variable (``x_1x1_se``) and would crash; here the
  redundant input itself is pooled, which is what the paper describes;
* the split point is fixed at construction (``int(in_channels * ratio)``) rather than recomputed from
  the runtime channel count, and bad channel counts raise ``ValueError`` instead of failing inside a conv.

With ``stride=2`` the input height and width must be even (AvgPool(2) and the strided 3×3 conv would
otherwise produce different sizes, exactly as in the official code). The official networks keep their
own BatchNorm after SPConv (BN is applied twice); that is the caller's business.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .surgery_leaf import SurgeryLeaf

__all__ = ["SPConv"]


class SPConv(SurgeryLeaf, nn.Layer):
    """Split-based 3×3 convolution (representative GWC+PWC branch, cheap redundant 1×1 branch).

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels; must be even (the group-wise conv has ``groups=2``).
        stride: 1 or 2.
        ratio: fraction ``α`` of input channels in the representative part, in (0, 1);
            ``int(C * α)`` must be even and ``C - int(C * α)`` positive.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, ratio: float = 0.5):
        super().__init__()
        if not 0.0 < ratio < 1.0:
            raise ValueError(f"SPConv: ratio={ratio} must lie in the open interval (0, 1)")
        if stride not in (1, 2):
            raise ValueError(f"SPConv: stride={stride} must be 1 or 2")
        rep = int(in_channels * ratio)
        red = in_channels - rep
        if rep <= 0 or red <= 0:
            raise ValueError(f"SPConv: int(in_channels*ratio)={rep} and the remainder {red} must both be "
                             f"positive (in_channels={in_channels}, ratio={ratio})")
        if rep % 2:
            raise ValueError(f"SPConv: int(in_channels*ratio)={rep} must be even (groups=2) "
                             f"(in_channels={in_channels}, ratio={ratio})")
        if out_channels % 2:
            raise ValueError(f"SPConv: out_channels={out_channels} must be even (groups=2)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.ratio = ratio
        self.rep_channels = rep
        self.red_channels = red

        self.gwc = nn.Conv2D(rep, out_channels, 3, stride=stride, padding=1, groups=2, bias_attr=False)
        self.pwc = nn.Conv2D(rep, out_channels, 1, bias_attr=False)
        self.conv1x1 = nn.Conv2D(red, out_channels, 1)  # with bias, as in the official code
        self.bn_rep = nn.BatchNorm2D(out_channels)
        self.bn_red = nn.BatchNorm2D(out_channels)
        self.pool = nn.AvgPool2D(2, 2) if stride == 2 else nn.Identity()

    def branches(self, x: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """The two BN outputs ``(representative, redundant)``, each ``[B, out_channels, H', W']``."""
        x_rep = x[:, :self.rep_channels]
        x_red = x[:, self.rep_channels:]
        rep = self.bn_rep(self.gwc(x_rep) + self.pwc(self.pool(x_rep)))
        red = self.bn_red(self.conv1x1(self.pool(x_red)))
        return rep, red

    @staticmethod
    def fusion_weights(rep: paddle.Tensor, red: paddle.Tensor) -> paddle.Tensor:
        """Softmax over the two branches of their per-channel global means: ``[B, C, 2]`` (rep, red)."""
        scores = paddle.stack([rep.mean(axis=[2, 3]), red.mean(axis=[2, 3])], axis=2)
        return F.softmax(scores, axis=2)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        rep, red = self.branches(x)
        w = self.fusion_weights(rep, red)
        return rep * w[:, :, 0].unsqueeze([2, 3]) + red * w[:, :, 1].unsqueeze([2, 3])

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"stride={self.stride}, ratio={self.ratio}")
