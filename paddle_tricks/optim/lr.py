"""Learning-rate schedules on ``paddle.optimizer.lr``, stepped once per iteration.

* ``Cosine``: the source project's plain cosine (``CosineAnnealingDecay``), here over all iterations so it
  ends at ``eta_min`` at the last one. (The tutorial set ``T_max=epochs`` while ``Model.fit`` steps per batch,
  which makes its LR oscillate every ``epochs`` iterations; this schedule is the intended one.)
* ``CosineWarmup``: linear warm-up from ``warmup_start_lr`` to ``base_lr`` over ``warmup_epochs`` epochs
  (Goyal et al., arXiv 1706.02677), then cosine to ``eta_min`` at the last iteration (SGDR without restarts,
  Loshchilov & Hutter, arXiv 1608.03983): ``LinearWarmup`` wrapped around ``CosineAnnealingDecay``.
* ``Piecewise``: multiply by ``gamma`` at each epoch of ``milestones``. ``Constant``: ``base_lr`` throughout.
"""
from __future__ import annotations

import paddle.optimizer.lr as lr

__all__ = ["build_lr_scheduler"]


def build_lr_scheduler(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    """The ``LR`` section's schedule for ``epochs`` epochs of ``steps_per_epoch`` iterations."""
    name, base = cfg["name"], cfg["base_lr"]
    total = steps_per_epoch * epochs
    if name == "Constant":
        return lr.LambdaDecay(base, lambda _: 1.0)
    if name == "Piecewise":
        bounds = [m * steps_per_epoch for m in cfg["milestones"]]
        return lr.PiecewiseDecay(bounds, [base * cfg["gamma"] ** i for i in range(len(bounds) + 1)])
    if name == "Cosine":
        return lr.CosineAnnealingDecay(base, T_max=max(1, total - 1), eta_min=cfg["eta_min"])
    if name == "CosineWarmup":
        warmup = int(round(cfg["warmup_epochs"] * steps_per_epoch))
        cosine = lr.CosineAnnealingDecay(base, T_max=max(1, total - warmup - 1), eta_min=cfg["eta_min"])
        if warmup == 0:
            return cosine
        return lr.LinearWarmup(cosine, warmup_steps=warmup, start_lr=cfg["warmup_start_lr"], end_lr=base)
    raise ValueError(f"unknown LR schedule {name}")
