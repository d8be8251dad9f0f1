"""Training losses from the ``Loss`` section, in the ``LOSSES`` registry: cross-entropy (with label smoothing
or R-Drop).

A new loss is one function ``@LOSSES.register("Name")`` taking the ``Loss`` section and returning a layer
``(logits, label) -> loss``; ``Loss.name`` accepts it at once.
"""
from __future__ import annotations

import paddle.nn as nn
import paddle.nn.functional as F

from ..utils.registry import Registry
from .rdrop import RDropLoss

__all__ = ["LOSSES", "build_loss", "LabelSmoothingCE", "RDropCriterion"]

LOSSES = Registry("loss", "paddle_tricks.losses.LOSSES")


class LabelSmoothingCE(nn.Layer):
    """Cross-entropy with label smoothing ε (Szegedy et al., arXiv 1512.00567); ε=0 is plain CE."""

    def __init__(self, epsilon: float = 0.0):
        super().__init__()
        self.epsilon = epsilon

    def forward(self, logits, label):
        label = label.reshape([-1])
        if self.epsilon == 0:
            return F.cross_entropy(logits, label)
        soft = F.label_smooth(F.one_hot(label, logits.shape[-1]), epsilon=self.epsilon)
        return F.cross_entropy(logits, soft, soft_label=True)


class RDropCriterion(nn.Layer):
    """R-Drop over a duplicated batch: logits and labels are ``[first pass; second pass]``.

    The loader repeats each batch (``build_loader(duplicate=True)``), so one forward pass gives both
    dropout samples; this adapter hands ``RDropLoss`` the logits and one copy of the labels.
    """

    def __init__(self, alpha: float):
        super().__init__()
        self.rdrop = RDropLoss(alpha=alpha)

    def forward(self, logits, label):
        label = label.reshape([-1])
        return self.rdrop(logits, label[: label.shape[0] // 2])


@LOSSES.register("CrossEntropy")
def cross_entropy(cfg: dict) -> nn.Layer:
    """Cross-entropy; R-Drop on top when ``rdrop_alpha > 0``, else label smoothing ``label_smoothing``."""
    if cfg["rdrop_alpha"] > 0:
        if cfg["label_smoothing"]:
            raise ValueError("Loss.rdrop_alpha and Loss.label_smoothing cannot be combined")
        return RDropCriterion(cfg["rdrop_alpha"])
    return LabelSmoothingCE(cfg["label_smoothing"])


def build_loss(cfg: dict) -> nn.Layer:
    """The loss the ``Loss`` section names."""
    return LOSSES.get(cfg["name"])(cfg)
