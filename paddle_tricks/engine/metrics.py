"""``MeanCrossEntropy``: the sample-mean cross-entropy over a whole pass, as a ``paddle.metric.Metric``.

``paddle.Model`` reports the loss of the *last batch* only (in ``fit`` logs and in ``evaluate``'s result);
accumulating it as a metric gives the mean over every sample seen, and under several processes it sees
the gathered outputs of all ranks, as ``Accuracy`` does.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F

__all__ = ["MeanCrossEntropy"]


class MeanCrossEntropy(paddle.metric.Metric):
    """Mean of the per-sample cross-entropy (no label smoothing) since the last ``reset``."""

    def __init__(self, name: str = "ce"):
        super().__init__()
        self._name = name
        self.reset()

    def compute(self, pred, label, *args):
        return F.cross_entropy(pred, label.reshape([-1, 1]).astype("int64"), reduction="none")

    def update(self, losses, *args):
        losses = np.asarray(losses, dtype=np.float64)
        self.total += float(losses.sum())
        self.count += losses.size
        return self.accumulate()

    def reset(self):
        self.total, self.count = 0.0, 0

    def accumulate(self):
        return self.total / self.count if self.count else 0.0

    def name(self):
        return self._name
