"""Learning-rate schedules on ``paddle.optimizer.lr``, stepped once per iteration, in the ``LR_SCHEDULES`` registry.

* ``Constant``: ``base_lr`` throughout.
* ``Cosine``: the source project's plain cosine (``CosineAnnealingDecay``), here over all iterations so it
  ends at ``eta_min`` at the last one. (The tutorial set ``T_max=epochs`` while ``Model.fit`` steps per batch,
  which makes its LR oscillate every ``epochs`` iterations; this schedule is the intended one.)
* ``CosineWarmup``: linear warm-up from ``warmup_start_lr`` to ``base_lr`` over ``warmup_epochs`` epochs
  (Goyal et al., arXiv 1706.02677), then cosine to ``eta_min`` at the last iteration (SGDR without restarts,
  Loshchilov & Hutter, arXiv 1608.03983): ``LinearWarmup`` wrapped around ``CosineAnnealingDecay``.
* ``Piecewise``: multiply by ``gamma`` at each epoch of ``milestones``.

A new schedule is one function here, ``@LR_SCHEDULES.register("Name")``, taking ``(cfg, steps_per_epoch,
epochs)``; ``LR.name`` accepts it at once.
"""
from __future__ import annotations

import paddle.optimizer.lr as lr

from ..utils.registry import Registry

__all__ = ["LR_SCHEDULES", "build_lr_scheduler"]

LR_SCHEDULES = Registry("LR schedule", "paddle_tricks.optim.LR_SCHEDULES")


@LR_SCHEDULES.register("Constant")
def constant(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    return lr.LambdaDecay(cfg["base_lr"], lambda _: 1.0)


@LR_SCHEDULES.register("Cosine")
def cosine(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    total = steps_per_epoch * epochs
    return lr.CosineAnnealingDecay(cfg["base_lr"], T_max=max(1, total - 1), eta_min=cfg["eta_min"])


@LR_SCHEDULES.register("CosineWarmup")
def cosine_warmup(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    base, total = cfg["base_lr"], steps_per_epoch * epochs
    warmup = int(round(cfg["warmup_epochs"] * steps_per_epoch))
    decay = lr.CosineAnnealingDecay(base, T_max=max(1, total - warmup - 1), eta_min=cfg["eta_min"])
    if warmup == 0:
        return decay
    return lr.LinearWarmup(decay, warmup_steps=warmup, start_lr=cfg["warmup_start_lr"], end_lr=base)


@LR_SCHEDULES.register("Piecewise")
def piecewise(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    bounds = [m * steps_per_epoch for m in cfg["milestones"]]
    return lr.PiecewiseDecay(bounds, [cfg["base_lr"] * cfg["gamma"] ** i for i in range(len(bounds) + 1)])


def build_lr_scheduler(cfg: dict, steps_per_epoch: int, epochs: int) -> lr.LRScheduler:
    """The ``LR`` section's schedule for ``epochs`` epochs of ``steps_per_epoch`` iterations."""
    return LR_SCHEDULES.get(cfg["name"])(cfg, steps_per_epoch, epochs)
