"""Training losses from the ``Loss`` section: cross-entropy (with label smoothing) or R-Drop."""
from __future__ import annotations

import paddle.nn as nn
import paddle.nn.functional as F

__all__ = ["build_loss", "LabelSmoothingCE", "RDropCriterion"]


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
        from ..losses import RDropLoss
        self.rdrop = RDropLoss(alpha=alpha)

    def forward(self, logits, label):
        label = label.reshape([-1])
        return self.rdrop(logits, label[: label.shape[0] // 2])


def build_loss(cfg: dict) -> nn.Layer:
    """The loss the ``Loss`` section names."""
    if cfg["rdrop_alpha"] > 0:
        if cfg["label_smoothing"]:
            raise ValueError("Loss.rdrop_alpha and Loss.label_smoothing cannot be combined")
        return RDropCriterion(cfg["rdrop_alpha"])
    return LabelSmoothingCE(cfg["label_smoothing"])
