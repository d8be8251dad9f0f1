"""``paddle.callbacks.Callback``s that the trainer adds to ``Model.fit``.

``Model.fit`` counts epochs from 0 on every call, so each callback here takes the run's ``start_epoch`` and
works in the run's own epoch and step numbers, which is what makes a resumed run continue seamlessly.
"""
from __future__ import annotations

import math

import paddle
from paddle.callbacks import Callback, ProgBarLogger

from ..errors import UserError
from ..utils.seed import seed_everything

__all__ = ["EpochProgBar", "EpochSeeder", "EMAUpdater", "LossGuard", "VisualDLLogger", "TrainingDiverged"]


class TrainingDiverged(UserError):
    """The loss became NaN or Inf."""


class EpochProgBar(ProgBarLogger):
    """Paddle's progress bar, numbering epochs of the whole run (``Epoch 7/30`` after a resume at 6)."""

    def __init__(self, start_epoch: int, total_epochs: int, log_freq: int = 10, verbose: int = 1):
        super().__init__(log_freq=log_freq, verbose=verbose)
        self.start_epoch, self.total_epochs = start_epoch, total_epochs

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.epochs = self.total_epochs

    def on_epoch_begin(self, epoch=None, logs=None):
        super().on_epoch_begin(self.start_epoch + epoch, logs)


class EpochSeeder(Callback):
    """Seeds every RNG with ``seed + epoch`` and sets the sampler's epoch, so that epoch k sees the same
    batches, augmentations and dropout masks whether or not the run was interrupted before it."""

    def __init__(self, seed: int, start_epoch: int, sampler):
        super().__init__()
        self.seed, self.start_epoch, self.sampler = seed, start_epoch, sampler

    def on_epoch_begin(self, epoch=None, logs=None):
        e = self.start_epoch + epoch
        seed_everything(self.seed * 1000 + e + 1)
        self.sampler.set_epoch(e)


class EMAUpdater(Callback):
    """Updates a ``ModelEMA`` after every optimizer step."""

    def __init__(self, ema, network):
        super().__init__()
        self.ema, self.network = ema, network

    def on_train_batch_end(self, step, logs=None):
        self.ema.update(self.network)


class LossGuard(Callback):
    """Stops training at the first non-finite loss, naming the epoch and step and the likely causes."""

    def __init__(self, start_epoch: int, amp: bool):
        super().__init__()
        self.start_epoch, self.amp, self.epoch = start_epoch, amp, 0

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        value = float(loss[0] if isinstance(loss, (list, tuple)) else loss) if loss is not None else 0.0
        if not math.isfinite(value):
            hint = ("lower LR.base_lr or add warm-up (LR.name=CosineWarmup)"
                    + ("; under AMP also try AMP.level=O1 or a smaller AMP.init_loss_scaling" if self.amp else ""))
            raise TrainingDiverged(f"the training loss became {value} at epoch {self.epoch + 1}, step {step + 1}; "
                                   f"the last good checkpoint is kept. Likely cause: the learning rate is too "
                                   f"high: {hint}")


class VisualDLLogger(Callback):
    """Writes train loss/accuracy and the learning rate every ``log_freq`` steps, and per-epoch metrics.

    ``paddle.callbacks.VisualDL`` logs loss and metrics only, and restarts its step count on every ``fit``,
    so this logger keeps the run's global step and adds the learning rate and EMA metrics.
    """

    def __init__(self, logdir: str, start_epoch: int, steps_per_epoch: int, log_freq: int = 10):
        super().__init__()
        from visualdl import LogWriter
        self.writer = LogWriter(logdir=logdir)
        self.start_epoch, self.steps_per_epoch, self.log_freq = start_epoch, steps_per_epoch, log_freq
        self.epoch = start_epoch

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def on_train_batch_end(self, step, logs=None):
        if step % self.log_freq:
            return
        gstep = self.epoch * self.steps_per_epoch + step
        logs = logs or {}
        for k, v in logs.items():
            if k in ("step", "batch_size"):
                continue
            v = v[0] if isinstance(v, (list, tuple)) else v
            self.writer.add_scalar(f"train/{k}", float(v), gstep)
        self.writer.add_scalar("train/lr", float(self.model._optimizer.get_lr()), gstep)

    def log_epoch(self, record: dict) -> None:
        """Per-epoch scalars: every ``eval_*``, ``ema_*`` and ``lr`` entry of a history record."""
        for k, v in record.items():
            if v is None or not isinstance(v, (int, float)) or k == "epoch":
                continue
            group, _, name = k.partition("_")
            if group in ("eval", "ema"):
                self.writer.add_scalar(f"{group}/{name}", float(v), record["epoch"])
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.flush()


def current_lr(optimizer: paddle.optimizer.Optimizer) -> float:
    """The learning rate the next step will use."""
    return float(optimizer.get_lr())
