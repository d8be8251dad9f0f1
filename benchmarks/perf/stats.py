"""Paired ratios with bootstrap confidence intervals (Efron & Tibshirani, An Introduction to the Bootstrap,
1993, ch. 13: percentile intervals)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000


@dataclass(frozen=True)
class Ratio:
    """A ratio with its 95% confidence interval, from ``pairs`` paired measurements."""
    value: float
    low: float
    high: float
    pairs: int

    def __str__(self) -> str:
        return f"**{self.value:.3f}** (95% CI {self.low:.3f}–{self.high:.3f}, {self.pairs} pairs)"


def bootstrap(statistic, *samples, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of ``statistic(*samples)``, each sample resampled (with replacement) on its own."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(s, dtype=float) for s in samples]
    values = [statistic(*(a[rng.integers(0, len(a), len(a))] for a in arrays)) for _ in range(resamples)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def paired_ratio(numerator, denominator) -> Ratio:
    """Median of the per-pair ratios ``numerator[i] / denominator[i]`` with its bootstrap 95% CI (pairs
    resampled): the median, so that a burst of load on the shared machine in a few pairs does not move it."""
    ratios = np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float)
    if len(ratios) < 2:
        raise ValueError("a ratio with a confidence interval needs at least 2 pairs")
    low, high = bootstrap(np.median, ratios)
    return Ratio(float(np.median(ratios)), low, high, len(ratios))


def derived_ratio(statistic, *samples, pairs: int) -> Ratio:
    """``statistic(*samples)`` with its bootstrap 95% CI, for a ratio built from several samples."""
    low, high = bootstrap(statistic, *samples)
    return Ratio(float(statistic(*samples)), low, high, pairs)


def ms(seconds) -> str:
    """Median of ``seconds`` in milliseconds, for tables."""
    return f"{np.median(np.asarray(seconds, dtype=float)) * 1e3:.1f}"
