"""Evaluation of a trained network: loss, top-1, top-5 and per-class accuracy."""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F

__all__ = ["evaluate_network"]


@paddle.no_grad()
def evaluate_network(network, loader, num_classes: int) -> dict:
    """Run ``network`` in eval mode over ``loader``; returns metrics and the confusion matrix."""
    was_training = network.training
    network.eval()
    losses, n = 0.0, 0
    top1 = top5 = 0
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    k = min(5, num_classes)
    for images, labels in loader:
        logits = network(images)
        labels = labels.reshape([-1])
        losses += float(F.cross_entropy(logits, labels, reduction="sum"))
        n += labels.shape[0]
        topk = paddle.topk(logits, k, axis=-1)[1].numpy()
        y = labels.numpy()
        top1 += int((topk[:, 0] == y).sum())
        top5 += int((topk == y[:, None]).any(axis=1).sum())
        np.add.at(confusion, (y, topk[:, 0]), 1)
    if was_training:
        network.train()
    support = confusion.sum(axis=1)
    per_class = np.where(support > 0, np.diag(confusion) / np.maximum(support, 1), np.nan)
    return {"loss": losses / max(n, 1), "top1": top1 / max(n, 1), f"top{k}": top5 / max(n, 1), "samples": n,
            "per_class": per_class.tolist(), "confusion": confusion.tolist()}
