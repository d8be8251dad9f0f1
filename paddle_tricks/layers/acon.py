"""ACON-C and Meta-ACON-C activations ("activate or not").

Paper: Ma N., Zhang X., Liu M., Sun J., "Activate or Not: Learning Customized Activation", CVPR 2021,
arXiv 2009.04759. Official code: ``nmaac/acon`` (``acon.py``).

``ACON-C(x) = (p1 − p2)·x · σ(β·(p1 − p2)·x) + p2·x`` with per-channel learnable ``p1``, ``p2`` and a
switching factor ``β``. ``β → ∞`` gives ``max(p1·x, p2·x)``, ``β = 0`` the linear mean, and
``p1 = 1, p2 = 0`` is Swish with parameter ``β``.

* :class:`AconC`: ``p1, p2 ~ N(0, 1)`` and ``β = 1``, all of shape ``(1, C, 1, 1)``, as in the official code.
* :class:`MetaAconC`: ``β = σ(BN(conv1×1(BN(conv1×1(GAP(x))))))`` is generated per sample and channel
  (hidden width ``max(r, C // r)``, biased 1×1 convs, no activation between them), as in the official code.

Weight decay: the official training script decays only parameters named ``weight`` with ndim > 1, so
``p1``, ``p2`` and ``β`` are not decayed. Here those parameters carry the attribute
``no_weight_decay = True``; the package trainer leaves every parameter flagged this way out of weight
decay (a custom loop should do the same, e.g. through ``apply_decay_param_fun`` or parameter groups).
``copy.deepcopy`` of a Paddle parameter drops such attributes, so the flag is also stored as
``param.optimize_attr["no_weight_decay"]``, which survives copies.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from .create_act import register_act
from .surgery_leaf import SurgeryLeaf

__all__ = ["AconC", "MetaAconC"]


def _channel_param(layer: nn.Layer, channels: int, initializer: nn.initializer.Initializer) -> paddle.Tensor:
    p = layer.create_parameter([1, channels, 1, 1], default_initializer=initializer)
    p.no_weight_decay = True
    # Parameter.__deepcopy__ drops unknown attributes but keeps ``optimize_attr``: mark it there too.
    p.optimize_attr["no_weight_decay"] = True
    return p


def _acon(x: paddle.Tensor, p1: paddle.Tensor, p2: paddle.Tensor, beta: paddle.Tensor) -> paddle.Tensor:
    dpx = (p1 - p2) * x
    return dpx * F.sigmoid(beta * dpx) + p2 * x


@register_act("acon_c", channels=True, trick_options={})
class AconC(SurgeryLeaf, nn.Layer):
    """ACON-C with learnable per-channel ``p1``, ``p2`` and ``β``.

    Args:
        channels: number of channels ``C`` of the NCHW input.
    """

    def __init__(self, channels: int):
        super().__init__()
        if channels < 1:
            raise ValueError(f"AconC: channels must be >= 1, got {channels}")
        self.channels = channels
        self.p1 = _channel_param(self, channels, nn.initializer.Normal(0.0, 1.0))
        self.p2 = _channel_param(self, channels, nn.initializer.Normal(0.0, 1.0))
        self.beta = _channel_param(self, channels, nn.initializer.Constant(1.0))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return _acon(x, self.p1, self.p2, self.beta)

    def extra_repr(self) -> str:
        return f"{self.channels}"


@register_act("meta_acon_c", channels=True, trick_options={"r": 16})
class MetaAconC(SurgeryLeaf, nn.Layer):
    """Meta-ACON-C: ACON-C whose ``β`` is predicted from the input by a small channel-wise network.

    Args:
        channels: number of channels ``C`` of the NCHW input.
        r: reduction of the hidden width, ``max(r, C // r)`` (official: 16).
    """

    def __init__(self, channels: int, r: int = 16):
        super().__init__()
        if channels < 1 or r < 1:
            raise ValueError(f"MetaAconC: channels and r must be >= 1, got channels={channels}, r={r}")
        hidden = max(r, channels // r)
        self.channels = channels
        self.fc1 = nn.Conv2D(channels, hidden, 1)
        self.bn1 = nn.BatchNorm2D(hidden)
        self.fc2 = nn.Conv2D(hidden, channels, 1)
        self.bn2 = nn.BatchNorm2D(channels)
        self.p1 = _channel_param(self, channels, nn.initializer.Normal(0.0, 1.0))
        self.p2 = _channel_param(self, channels, nn.initializer.Normal(0.0, 1.0))

    def switch_factor(self, x: paddle.Tensor) -> paddle.Tensor:
        """``β`` of shape ``(N, C, 1, 1)`` for the input ``x``."""
        return F.sigmoid(self.bn2(self.fc2(self.bn1(self.fc1(x.mean(axis=[2, 3], keepdim=True))))))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return _acon(x, self.p1, self.p2, self.switch_factor(x))

    def extra_repr(self) -> str:
        return f"{self.channels}"
