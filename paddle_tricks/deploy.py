"""Deploy-time re-parameterisation: fold BatchNorm into convolutions and fuse multi-branch blocks.

``reparameterize(model)`` turns a trained network into an equivalent, cheaper inference network:

* every sub-layer that has a ``switch_to_deploy()`` method (for example
  :class:`paddle_tricks.layers.ACBlock`) is asked to fuse itself;
* every :class:`paddle_tricks.layers.conv_bn.ConvBNAct` has its ``.bn`` folded into ``.conv``
  (which gains a bias) and replaced by ``nn.Identity``;
* every consecutive ``nn.Conv2D`` → ``nn.BatchNorm2D`` pair inside an ``nn.Sequential`` is folded the
  same way.

BN folding in eval mode is exact up to float rounding: with ``t = γ / sqrt(var + eps)``,
``BN(conv(x) + b) = conv_{W·t}(x) + (b − μ)·t + β``. This is the fusion used by ACNet (Ding et al.,
"ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric Convolution Blocks",
ICCV 2019, arXiv 1908.03930, ``DingXiaoH/ACNet``) and RepVGG; :func:`fuse_conv_bn` is the single
implementation that ACBlock reuses.

Only convolutions in ``NCHW`` layout are folded; other pairs are left alone, so a model that this module
does not understand still runs unchanged.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

__all__ = ["fuse_conv_bn", "fuse_bn_tensor", "reparameterize"]


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


def _is_plain_conv(conv: nn.Layer) -> bool:
    # A Conv2D subclass with its own forward (e.g. one that adds input channels) is not a plain conv.
    return (isinstance(conv, nn.Conv2D) and type(conv).forward is nn.Conv2D.forward
            and conv._data_format == "NCHW")


def _is_bn(bn: nn.Layer) -> bool:
    # use_global_stats=False means batch statistics even in eval mode: not foldable.
    return (type(bn) in (nn.BatchNorm2D, nn.SyncBatchNorm) and bn._data_format == "NCHW"
            and getattr(bn, "_use_global_stats", None) is not False)


def _is_plain_conv_bn_act(layer: nn.Layer) -> bool:
    # Imported here: paddle_tricks.layers (ACBlock) imports this module, so no import at module level.
    from paddle_tricks.layers.conv_bn import ConvBNAct

    # Subclasses that override forward may not compute act(bn(conv(x))); leave them alone.
    return (isinstance(layer, ConvBNAct) and type(layer).forward is ConvBNAct.forward
            and _is_plain_conv(layer.conv) and _is_bn(layer.bn)
            and layer.conv._out_channels == layer.bn._num_features)


def _fuse_sequential(seq: nn.Sequential) -> int:
    names = list(seq._sub_layers.keys())
    fused = 0
    for first, second in zip(names[:-1], names[1:]):
        conv, bn = seq._sub_layers[first], seq._sub_layers[second]
        if _is_plain_conv(conv) and _is_bn(bn) and conv._out_channels == bn._num_features:
            seq._sub_layers[first] = fuse_conv_bn(conv, bn)
            seq._sub_layers[second] = nn.Identity()
            fused += 1
    return fused


def reparameterize(model: nn.Layer) -> nn.Layer:
    """Convert ``model`` in place to its deploy form and return it (in eval mode).

    Calls ``switch_to_deploy()`` on every sub-layer that has one (innermost first), then folds the
    BatchNorm of every plain :class:`ConvBNAct` and of every ``Conv2D → BatchNorm2D`` pair inside an
    ``nn.Sequential`` into its convolution.

    Args:
        model: any ``paddle.nn.Layer``.

    Returns:
        The same object, converted and set to eval mode.
    """
    model.eval()
    layers = model.sublayers(include_self=True)
    # Innermost first, so that a block's own fusion sees already-fused children.
    for layer in reversed(layers):
        if hasattr(layer, "switch_to_deploy") and callable(layer.switch_to_deploy) \
                and not getattr(layer, "deploy", False):
            layer.switch_to_deploy()
    for layer in model.sublayers(include_self=True):
        if _is_plain_conv_bn_act(layer):
            layer.conv = fuse_conv_bn(layer.conv, layer.bn)
            layer.bn = nn.Identity()
        elif isinstance(layer, nn.Sequential):
            _fuse_sequential(layer)
    model.eval()
    return model
