"""R-Drop: consistency between two dropout passes as a loss.

Paper: Liang X., Wu L., Li J., Wang Y., Meng Q., Qin T., Chen W., Zhang M., Liu T.-Y., "R-Drop: Regularized
Dropout for Neural Networks", NeurIPS 2021, arXiv 2106.14448. Official code: ``dropreg/R-Drop``.

The model runs twice on the same (augmented) batch with dropout on; here as one pass over
``concat([x, x])``, which keeps BatchNorm statistics consistent. With ``p, q`` the softmax outputs of the two
halves of the logits:

``loss = CE(both passes, mean over 2B samples) + α · (KL(p‖q) + KL(q‖p)) / 2``

which is the README form ``0.5·(CE1 + CE2) + α·KL_sym``. Neither side is detached: the gradient flows
into both passes, as in the official code.

KL reduction: ``'batchmean'`` (default) sums over classes and averages over the ``B`` samples, so ``α`` does
not depend on the batch size; ``'sum'`` sums over samples too, as the official ViT code does (there
``CE1 + CE2 + α·(kl + rev_kl)`` with summed KL, so its ``α`` is not directly comparable). Paddle's
``F.kl_div`` defaults to an element-wise mean, which is neither; it is not used here.
``α``: the official ViT fine-tuning default is 0.3 (the source tutorial quotes 0.6 for CV); tune per task.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

__all__ = ["RDropLoss", "kl_term"]

_REDUCTIONS = ("batchmean", "sum")


def kl_term(logits1: paddle.Tensor, logits2: paddle.Tensor, reduction: str = "batchmean") -> paddle.Tensor:
    """Symmetric KL ``(KL(p‖q) + KL(q‖p)) / 2`` between ``p = softmax(logits1)`` and ``q = softmax(logits2)``.

    Args:
        logits1: logits of the first pass, shape ``(B, ..., K)``; classes on the last axis.
        logits2: logits of the second pass, same shape.
        reduction: ``'batchmean'`` (sum over everything, divided by ``B``) or ``'sum'``.

    Returns:
        A scalar tensor; gradients flow into both inputs.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"kl_term: reduction must be one of {_REDUCTIONS}, got '{reduction}'")
    if logits1.shape != logits2.shape:
        raise ValueError(f"kl_term: logits1 and logits2 must have the same shape, got "
                         f"{logits1.shape} and {logits2.shape}")
    logp = F.log_softmax(logits1, axis=-1)
    logq = F.log_softmax(logits2, axis=-1)
    # KL(p||q) + KL(q||p) = sum (p - q) (log p - log q)
    total = ((logp.exp() - logq.exp()) * (logp - logq)).sum() / 2.0
    if reduction == "batchmean":
        total = total / logits1.shape[0]
    return total


class RDropLoss(nn.Layer):
    """Cross-entropy over two dropout passes plus ``α`` times their symmetric KL divergence.

    Call it with the logits of one forward pass over ``concat([x, x])`` (``2B`` rows: first pass, then
    second pass) and the labels of the ``B`` samples (``(B,)`` or ``(B, 1)`` integer class ids); labels
    already repeated to ``2B`` rows are accepted as well.

    Args:
        alpha: weight ``α`` of the KL term (official ViT default 0.3).
        reduction: KL reduction, ``'batchmean'`` (default) or ``'sum'``.
    """

    def __init__(self, alpha: float = 0.3, reduction: str = "batchmean"):
        super().__init__()
        if alpha < 0:
            raise ValueError(f"RDropLoss: alpha must be >= 0, got {alpha}")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"RDropLoss: reduction must be one of {_REDUCTIONS}, got '{reduction}'")
        self.alpha = float(alpha)
        self.reduction = reduction

    @staticmethod
    def kl_term(logits1: paddle.Tensor, logits2: paddle.Tensor, reduction: str = "batchmean") -> paddle.Tensor:
        """See :func:`kl_term`."""
        return kl_term(logits1, logits2, reduction)

    def forward(self, logits: paddle.Tensor, label: paddle.Tensor) -> paddle.Tensor:
        n = logits.shape[0]
        if n % 2:
            raise ValueError(f"RDropLoss: logits must hold two passes (2B rows), got {n} rows")
        b = n // 2
        if label.ndim == logits.ndim and label.shape[-1] == 1:
            label = label.squeeze(-1)
        if label.shape[0] == b:
            label = paddle.concat([label, label], axis=0)
        elif label.shape[0] != n:
            raise ValueError(f"RDropLoss: labels must have B={b} or 2B={n} rows, got {label.shape[0]}")
        ce = F.cross_entropy(logits, label.astype("int64"), reduction="mean")
        if self.alpha == 0:
            return ce
        return ce + self.alpha * kl_term(logits[:b], logits[b:], self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, reduction={self.reduction}"
