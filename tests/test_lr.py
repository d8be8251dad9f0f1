"""LR schedules: CosineWarmup starts at the warm-up start, reaches base LR after W epochs, ends at eta_min."""
import math

import pytest

from paddle_tricks.optim import build_lr_scheduler

CFG = {"name": "CosineWarmup", "base_lr": 0.4, "warmup_epochs": 2, "warmup_start_lr": 0.01, "eta_min": 0.001,
       "milestones": [], "gamma": 0.1}


def trace(cfg, steps, epochs):
    sched = build_lr_scheduler(cfg, steps, epochs)
    out = []
    for _ in range(steps * epochs):
        out.append(sched())
        sched.step()
    return out


def test_cosine_warmup_shape():
    steps, epochs = 10, 6
    lrs = trace(CFG, steps, epochs)
    assert lrs[0] == pytest.approx(0.01)
    # linear during warm-up
    assert lrs[10] == pytest.approx(0.01 + (0.4 - 0.01) * 10 / 20)
    assert lrs[20] == pytest.approx(0.4)            # base LR exactly after W epochs
    assert max(lrs) == pytest.approx(0.4)
    assert lrs[-1] == pytest.approx(0.001, abs=1e-9)  # eta_min at the last iteration
    # cosine: halfway through the decay the LR is the midpoint
    n = len(lrs) - 1 - 20
    mid = 20 + n // 2
    expect = 0.001 + 0.5 * (0.4 - 0.001) * (1 + math.cos(math.pi * (mid - 20) / n))
    assert lrs[mid] == pytest.approx(expect, rel=1e-6)
    assert all(a >= b - 1e-12 for a, b in zip(lrs[20:], lrs[21:]))  # monotone after warm-up


def test_plain_cosine_and_piecewise():
    lrs = trace({**CFG, "name": "Cosine", "warmup_epochs": 0}, 5, 4)
    assert lrs[0] == pytest.approx(0.4) and lrs[-1] == pytest.approx(0.001, abs=1e-9)
    lrs = trace({**CFG, "name": "Piecewise", "warmup_epochs": 0, "milestones": [2, 3]}, 5, 4)
    assert lrs[9] == pytest.approx(0.4) and lrs[10] == pytest.approx(0.04) and lrs[15] == pytest.approx(0.004)
