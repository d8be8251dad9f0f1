"""Optimizers (Momentum, SGD, AdamW) in the ``OPTIMIZERS`` registry, with weight decay that can spare BN and
bias parameters.

A new optimizer is one function here, ``@OPTIMIZERS.register("Name")``, taking ``(cfg, learning_rate,
decay, no_decay, grad_clip)``; ``Optimizer.name`` accepts it at once.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

from ..utils.registry import Registry

__all__ = ["OPTIMIZERS", "build_optimizer", "split_decay_params"]

OPTIMIZERS = Registry("optimizer", "paddle_tricks.optim.OPTIMIZERS")

_NORM_LAYERS = (nn.BatchNorm, nn.BatchNorm1D, nn.BatchNorm2D, nn.BatchNorm3D, nn.LayerNorm, nn.GroupNorm,
                nn.InstanceNorm2D, nn.SyncBatchNorm)


def split_decay_params(model: nn.Layer, exempt_bn_bias: bool):
    """``(decay, no_decay)`` parameter lists.

    Parameters flagged ``no_weight_decay = True`` by their layer (ACON's p1, p2, β) never decay. With
    ``exempt_bn_bias`` also every normalisation-layer parameter and every 1-D bias.
    """
    no_decay_ids = set()
    if exempt_bn_bias:
        for layer in model.sublayers(include_self=True):
            if isinstance(layer, _NORM_LAYERS):
                no_decay_ids.update(id(p) for p in layer.parameters(include_sublayers=False))
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.stop_gradient:
            continue
        flagged = getattr(p, "no_weight_decay", False) or (getattr(p, "optimize_attr", None) or {}).get(
            "no_weight_decay", False)
        exempt = flagged or id(p) in no_decay_ids or (
            exempt_bn_bias and (name.endswith(".bias") or name.endswith("bias") or len(p.shape) <= 1))
        (no_decay if exempt else decay).append(p)
    return decay, no_decay


def _zero_decay(params: list) -> None:
    """Give each parameter a zero ``L2Decay`` of its own (it takes precedence over the optimizer's)."""
    for p in params:
        p.regularizer = paddle.regularizer.L2Decay(0.0)


@OPTIMIZERS.register("Momentum")
def momentum(cfg: dict, learning_rate, decay: list, no_decay: list, grad_clip):
    _zero_decay(no_decay)
    return paddle.optimizer.Momentum(learning_rate, momentum=cfg["momentum"], parameters=decay + no_decay,
                                     use_nesterov=cfg["nesterov"], weight_decay=cfg["weight_decay"],
                                     grad_clip=grad_clip)


@OPTIMIZERS.register("SGD")
def sgd(cfg: dict, learning_rate, decay: list, no_decay: list, grad_clip):
    _zero_decay(no_decay)
    return paddle.optimizer.SGD(learning_rate, parameters=decay + no_decay, weight_decay=cfg["weight_decay"],
                                grad_clip=grad_clip)


@OPTIMIZERS.register("AdamW")
def adamw(cfg: dict, learning_rate, decay: list, no_decay: list, grad_clip):
    decay_names = {p.name for p in decay}
    return paddle.optimizer.AdamW(learning_rate, beta1=cfg["beta1"], beta2=cfg["beta2"],
                                  parameters=decay + no_decay, weight_decay=cfg["weight_decay"],
                                  grad_clip=grad_clip, apply_decay_param_fun=lambda n: n in decay_names)


def build_optimizer(cfg: dict, model: nn.Layer, learning_rate) -> paddle.optimizer.Optimizer:
    """The ``Optimizer`` section's optimizer over ``model``'s trainable parameters.

    ``paddle.Model`` calls ``optimizer.minimize``, which takes a flat parameter list (no groups), so
    exempt parameters get a zero ``L2Decay`` of their own (Momentum, SGD: a parameter's regularizer takes
    precedence) or are left out by ``apply_decay_param_fun`` (AdamW).
    """
    decay, no_decay = split_decay_params(model, cfg["no_weight_decay_bn_bias"])
    clip = paddle.nn.ClipGradByGlobalNorm(cfg["grad_clip"]) if cfg["grad_clip"] else None
    return OPTIMIZERS.get(cfg["name"])(cfg, learning_rate, decay, no_decay, clip)
