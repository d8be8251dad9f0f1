"""ACBlock: the Asymmetric Convolution Block of ACNet.

Paper: Ding X., Guo Y., Ding G., Han J., "ACNet: Strengthening the Kernel Skeletons for Powerful CNN via
Asymmetric Convolution Blocks", ICCV 2019, arXiv 1908.03930. Official code: ``DingXiaoH/ACNet``
(``acnet/acb.py``).

An ``ACBlock`` replaces a ``k×k conv → BN`` pair by three parallel branches, ``k×k conv → BN``,
``1×k conv → BN`` and ``k×1 conv → BN``, whose outputs are summed. After training,
:meth:`ACBlock.switch_to_deploy` folds each BN into its conv (:func:`paddle_tricks.deploy.fuse_bn_tensor`)
and adds the ``1×k`` / ``k×1`` kernels into the centre row / column of the ``k×k`` kernel, giving one
biased ``k×k`` conv with exactly the same output (eval mode) and no extra inference cost.

As in the official code:

* padding of the asymmetric branches: ``[p − k//2, p]`` (as ``[pad_h, pad_w]``) for ``1×k`` and
  ``[p, p − k//2]`` for ``k×1``, so the three sliding windows stay aligned; when ``p < k//2`` the
  input of the asymmetric branches is cropped by ``k//2 − p`` instead (zero padding only);
* each branch has its own BN; ``gamma_init=1/3`` reproduces the CIFAR setting (all three BN γ start
  at 1/3), the default leaves γ at 1 (ImageNet setting).

Differences: the block is conv + BN only (no activation), like the official one; only odd kernel sizes
and ``dilation=1`` are supported (the official alignment rule assumes them), and bad arguments raise
``ValueError`` instead of asserting. ACNet applies the block to k ∈ {3, 5} only (1×1 and k ≥ 7 stay plain).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

from .fusion import fuse_bn_tensor
from .surgery_leaf import SurgeryLeaf

__all__ = ["ACBlock"]


class ACBlock(SurgeryLeaf, nn.Layer):
    """``k×k + 1×k + k×1`` convolutions, each followed by its own BatchNorm, summed.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: odd square kernel size ``k`` (≥ 3 for the asymmetric branches to differ).
        stride: stride of all three branches.
        padding: square zero padding ``p`` of the ``k×k`` branch; ``None`` gives ``k // 2``.
            ``p < k // 2`` is allowed (the asymmetric branches then crop their input).
        groups: convolution groups, shared by the three branches.
        dilation: must be 1.
        deploy: build the fused single-conv form directly (for loading deployed weights).
        gamma_init: initial γ of the three BNs; ``1/3`` is ACNet's CIFAR setting, ``None`` keeps 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1, dilation: int = 1, deploy: bool = False,
                 gamma_init: float | None = None):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"ACBlock: kernel_size must be a positive odd number, got {kernel_size}")
        if dilation != 1:
            raise ValueError(f"ACBlock: only dilation=1 is supported, got dilation={dilation}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"ACBlock: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if stride < 1:
            raise ValueError(f"ACBlock: stride must be >= 1, got {stride}")
        if padding is None:
            padding = kernel_size // 2
        if padding < 0:
            raise ValueError(f"ACBlock: padding must be >= 0, got {padding}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.groups = kernel_size, stride, padding, groups
        self.deploy = deploy
        if deploy:
            self.fused_conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                        groups=groups)
            return
        half = kernel_size // 2
        if padding >= half:
            self.crop = 0
            hor_padding = [padding - half, padding]
            ver_padding = [padding, padding - half]
        else:
            self.crop = half - padding
            hor_padding = [0, padding]
            ver_padding = [padding, 0]
        self.square_conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                     groups=groups, bias_attr=False)
        self.square_bn = nn.BatchNorm2D(out_channels)
        self.hor_conv = nn.Conv2D(in_channels, out_channels, (1, kernel_size), stride=stride,
                                  padding=hor_padding, groups=groups, bias_attr=False)
        self.hor_bn = nn.BatchNorm2D(out_channels)
        self.ver_conv = nn.Conv2D(in_channels, out_channels, (kernel_size, 1), stride=stride,
                                  padding=ver_padding, groups=groups, bias_attr=False)
        self.ver_bn = nn.BatchNorm2D(out_channels)
        if gamma_init is not None:
            for bn in (self.square_bn, self.hor_bn, self.ver_bn):
                bn.weight.set_value(paddle.full_like(bn.weight, gamma_init))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.deploy:
            return self.fused_conv(x)
        square = self.square_bn(self.square_conv(x))
        if self.crop > 0:
            c = self.crop
            hor_in = x[:, :, c:-c, :]   # 1×k branch: too little vertical padding → crop rows
            ver_in = x[:, :, :, c:-c]   # k×1 branch: crop columns
        else:
            hor_in = ver_in = x
        return square + self.hor_bn(self.hor_conv(hor_in)) + self.ver_bn(self.ver_conv(ver_in))

    def get_equivalent_kernel_bias(self) -> tuple[paddle.Tensor, paddle.Tensor]:
        """The ``(weight, bias)`` of the single ``k×k`` conv equal to the block in eval mode."""
        if self.deploy:
            return self.fused_conv.weight.detach(), self.fused_conv.bias.detach()
        k_sq, b_sq = fuse_bn_tensor(self.square_conv, self.square_bn)
        k_hor, b_hor = fuse_bn_tensor(self.hor_conv, self.hor_bn)
        k_ver, b_ver = fuse_bn_tensor(self.ver_conv, self.ver_bn)
        half = self.kernel_size // 2
        with paddle.no_grad():
            # 1×k goes into the centre row, k×1 into the centre column (zero-padded to k×k).
            k_hor = nn.functional.pad(k_hor, [0, 0, half, half])
            k_ver = nn.functional.pad(k_ver, [half, half, 0, 0])
            weight = k_sq + k_hor + k_ver
        return weight, b_sq + b_hor + b_ver

    def switch_to_deploy(self) -> None:
        """Fuse the three branches into ``self.fused_conv`` (in place; idempotent)."""
        if self.deploy:
            return
        weight, bias = self.get_equivalent_kernel_bias()
        dtype = self.square_conv.weight.dtype
        fused = nn.Conv2D(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                          padding=self.padding, groups=self.groups)
        fused.weight.set_value(weight.astype(dtype))
        fused.bias.set_value(bias.astype(dtype))
        for name in ("square_conv", "square_bn", "hor_conv", "hor_bn", "ver_conv", "ver_bn"):
            delattr(self, name)
        self.fused_conv = fused
        self.deploy = True

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, groups={self.groups}, deploy={self.deploy}")
