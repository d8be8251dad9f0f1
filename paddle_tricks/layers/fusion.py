"""Folding an eval-mode BatchNorm into the convolution before it.

With ``t = γ / sqrt(var + eps)``, ``BN(conv(x) + b) = conv_{W·t}(x) + (b − μ)·t + β``: exact up to float
rounding. This is the fusion of ACNet (Ding et al., "ACNet: Strengthening the Kernel Skeletons for Powerful
CNN via Asymmetric Convolution Blocks", ICCV 2019, arXiv 1908.03930, ``DingXiaoH/ACNet``) and RepVGG; the
single implementation that ``ACBlock.switch_to_deploy`` and ``paddle_tricks.deploy.reparameterize`` use.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

__all__ = ["fuse_bn_tensor", "fuse_conv_bn"]


def _check_pair(conv: nn.Conv2D, bn: nn.Layer) -> None:
    if not isinstance(conv, nn.Conv2D):
        raise ValueError(f"fuse_conv_bn: conv must be an nn.Conv2D, got {type(conv).__name__}")
    if not isinstance(bn, nn.layer.norm._BatchNormBase):
        raise ValueError(f"fuse_conv_bn: bn must be a BatchNorm layer, got {type(bn).__name__}")
    if conv._data_format != "NCHW" or getattr(bn, "_data_format", "NCHW") not in ("NCHW", "NCDHW", "NCL"):
        raise ValueError("fuse_conv_bn: only NCHW convolutions and batch norms can be fused, got "
                         f"conv data_format={conv._data_format!r}")
    if conv._out_channels != bn._num_features:
        raise ValueError(f"fuse_conv_bn: conv out_channels={conv._out_channels} must equal "
                         f"bn num_features={bn._num_features}")


def fuse_bn_tensor(conv: nn.Conv2D, bn: nn.Layer) -> tuple[paddle.Tensor, paddle.Tensor]:
    """The kernel and bias of a conv followed by an eval-mode BatchNorm, as one biased conv.

    Args:
        conv: the convolution (with or without bias).
        bn: the BatchNorm that follows it; its running statistics are used (eval-mode semantics).

    Returns:
        ``(weight, bias)`` with the shapes of ``conv.weight`` and ``[out_channels]``.
    """
    _check_pair(conv, bn)
    with paddle.no_grad():
        std = paddle.sqrt(bn._variance.astype("float32") + bn._epsilon)
        gamma = bn.weight.astype("float32") if bn.weight is not None else paddle.ones_like(std)
        beta = bn.bias.astype("float32") if bn.bias is not None else paddle.zeros_like(std)
        t = gamma / std
        weight = conv.weight.astype("float32") * t.reshape([-1, 1, 1, 1])
        conv_bias = conv.bias.astype("float32") if conv.bias is not None else paddle.zeros_like(std)
        bias = beta + (conv_bias - bn._mean.astype("float32")) * t
    return weight, bias


def _biased_like(conv: nn.Conv2D) -> nn.Conv2D:
    """A new biased ``nn.Conv2D`` with the geometry of ``conv``."""
    fused = nn.Conv2D(conv._in_channels, conv._out_channels, conv._kernel_size, stride=conv._stride,
                      padding=conv._padding, dilation=conv._dilation, groups=conv._groups,
                      padding_mode=conv._padding_mode, data_format=conv._data_format)
    return fused


def fuse_conv_bn(conv: nn.Conv2D, bn: nn.Layer) -> nn.Conv2D:
    """A single biased ``nn.Conv2D`` equal to ``bn(conv(x))`` with ``bn`` in eval mode.

    Args:
        conv: an ``nn.Conv2D`` in NCHW layout, with or without bias.
        bn: the ``nn.BatchNorm2D`` (or any Paddle batch norm) applied to its output.

    Returns:
        A new conv layer with the same kernel size, stride, padding, dilation and groups.

    Raises:
        ValueError: if the layers are not a conv/BN pair with matching channels in NCHW layout.
    """
    weight, bias = fuse_bn_tensor(conv, bn)
    fused = _biased_like(conv)
    fused.weight.set_value(weight.astype(conv.weight.dtype))
    fused.bias.set_value(bias.astype(conv.weight.dtype))
    return fused
