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
ICCV 2019, arXiv 1908.03930, ``DingXiaoH/ACNet``) and RepVGG; :func:`fuse_conv_bn` lives in
``paddle_tricks.layers.fusion``, which ACBlock uses too.

Only convolutions in ``NCHW`` layout are folded; other pairs are left alone, so a model that this module
does not understand still runs unchanged.
"""
from __future__ import annotations

import paddle.nn as nn

from .layers.conv_bn import ConvBNAct
from .layers.fusion import fuse_bn_tensor, fuse_conv_bn

__all__ = ["fuse_conv_bn", "fuse_bn_tensor", "reparameterize"]


def _is_plain_conv(conv: nn.Layer) -> bool:
    # A Conv2D subclass with its own forward (e.g. one that adds input channels) is not a plain conv.
    return (isinstance(conv, nn.Conv2D) and type(conv).forward is nn.Conv2D.forward
            and conv._data_format == "NCHW")


def _is_bn(bn: nn.Layer) -> bool:
    # use_global_stats=False means batch statistics even in eval mode: not foldable.
    return (type(bn) in (nn.BatchNorm2D, nn.SyncBatchNorm) and bn._data_format == "NCHW"
            and getattr(bn, "_use_global_stats", None) is not False)


def _is_plain_conv_bn_act(layer: nn.Layer) -> bool:
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
