"""``paddle.callbacks.Callback``s that the trainer adds to ``Model.fit``.

``Model.fit`` counts epochs from 0 on every call, so each callback here takes the run's ``start_epoch`` and
works in the run's own epoch and step numbers, which is what makes a resumed run continue seamlessly.
"""
from __future__ import annotations

import math

import numpy as np
import paddle
from paddle.callbacks import Callback, ProgBarLogger

from ..errors import UserError
from ..utils.seed import seed_everything

__all__ = ["EpochProgBar", "EpochSeeder", "EMAUpdater", "LossGuard", "AMPSkipCounter", "VisualDLLogger",
           "DropBlockSchedule", "TrainingDiverged", "divergence_hint", "nonfinite_tensors"]


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


def nonfinite_tensors(network, buffers: bool = False) -> list[str]:
    """Names of the parameters (and, with ``buffers``, BN statistics) of ``network`` holding NaN or Inf."""
    items = network.state_dict().items() if buffers else network.named_parameters()
    return [name for name, t in items
            if t.dtype in (paddle.float16, paddle.float32, paddle.float64, paddle.bfloat16)
            and not bool(paddle.isfinite(t).all())]


class LossGuard(Callback):
    """Stops training at the first non-finite loss, or non-finite weights, naming the epoch, step and causes.

    The loss alone is not enough: once weights are NaN, ReLU-like activations can turn the NaNs into zeros
    and the loss looks finite (uniform logits). So every ``check_every`` steps the parameters are checked
    too (a few ms for a small net); the trainer checks all weights and BN statistics again before saving.

    Args:
        start_epoch: the run's epoch at which this ``fit`` call starts.
        amp: whether AMP is on (adds the AMP hints).
        kept: returns a sentence on the checkpoint that stays (the last good epoch's).
        steps_per_epoch: for the run's global step number in the message.
        network: the network whose parameters are checked (None: loss only).
        check_every: check the parameters every N steps.
        optimizer: its learning rate is named in the message (None: not named).
    """

    def __init__(self, start_epoch: int, amp: bool, kept=None, steps_per_epoch: int | None = None,
                 network=None, check_every: int = 10, optimizer=None):
        super().__init__()
        self.optimizer = optimizer
        self.start_epoch, self.amp, self.epoch = start_epoch, amp, 0
        self.kept = kept or (lambda: "the last good checkpoint is kept")
        self.steps_per_epoch = steps_per_epoch
        self.network, self.check_every = network, max(1, check_every)

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def _where(self, step: int) -> str:
        where = f"epoch {self.epoch + 1}, step {step + 1}"
        if self.steps_per_epoch:
            where += f" (global step {self.epoch * self.steps_per_epoch + step + 1})"
        if self.optimizer is None:
            return where
        return where + f" with learning rate {float(self.optimizer.get_lr()):.4g}"

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        value = float(loss[0] if isinstance(loss, (list, tuple)) else loss) if loss is not None else 0.0
        if not math.isfinite(value):
            raise TrainingDiverged(f"the training loss became {value} at {self._where(step)}; {self.kept()}. "
                                   f"{divergence_hint(self.amp)}")
        if self.network is not None and (step + 1) % self.check_every == 0:
            bad = nonfinite_tensors(self.network)
            if bad:
                more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
                raise TrainingDiverged(f"the weights became NaN/Inf ({bad[0]}{more}) by {self._where(step)}; "
                                       f"{self.kept()}. {divergence_hint(self.amp)}")


def divergence_hint(amp: bool) -> str:
    """What usually makes training diverge, and what to change."""
    hint = ("Likely cause: the learning rate is too high: lower LR.base_lr, add warm-up (LR.name=CosineWarmup) "
            "or set Optimizer.grad_clip")
    if amp:
        hint += ("; or AMP: fp16 overflowed, try AMP.level=O1 (or AMP.enable=false) or a smaller "
                 "AMP.init_loss_scaling")
    return hint


class AMPSkipCounter(Callback):
    """Counts the steps that AMP's dynamic loss scaling skipped (the ``GradScaler`` found inf/nan gradients).

    Paddle's ``GradScaler.minimize`` skips the optimizer step when the scaled gradients overflow, records that
    in ``_cache_found_inf`` and lowers the loss scale. This reads the flag after every step; the trainer puts
    ``amp_skipped_steps`` (this epoch) and ``amp_loss_scale`` into each ``metrics.jsonl`` record and VisualDL.
    Paddle has no public accessor for the flag, so this is the one private name read here; the test
    ``test_amp_skipped_steps_are_counted_in_metrics_and_visualdl`` checks ``minimize`` still sets it. The loss
    scale comes from the public ``state_dict()``.

    Args:
        scaler: the ``paddle.amp.GradScaler`` of the run (any object with ``_cache_found_inf`` and
            ``state_dict()``).
    """

    def __init__(self, scaler):
        super().__init__()
        self.scaler = scaler
        self.epoch_skipped = 0
        self.total_skipped = 0

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch_skipped = 0

    def on_train_batch_end(self, step, logs=None):
        found = getattr(self.scaler, "_cache_found_inf", None)
        if found is not None and bool(found):
            self.epoch_skipped += 1
            self.total_skipped += 1

    def loss_scale(self) -> float | None:
        """The current loss scale (``None`` when the scaler does not report one)."""
        state = self.scaler.state_dict() if hasattr(self.scaler, "state_dict") else {}
        scale = state.get("scale")
        try:
            return float(np.asarray(scale).reshape(-1)[0]) if scale is not None else None
        except (TypeError, ValueError, IndexError):
            return None


class VisualDLLogger(Callback):
    """Writes train loss/accuracy and the learning rate every ``log_freq`` steps, and per-epoch metrics.

    ``paddle.callbacks.VisualDL`` logs loss and metrics only, and restarts its step count on every ``fit``,
    so this logger keeps the run's global step and adds the learning rate, EMA metrics and AMP's skipped
    steps. Logs are a convenience: if writing them fails (a full disk), one warning says so and training goes
    on without them; the checkpoint save that follows reports the disk problem itself.

    Args:
        logdir: the VisualDL folder.
        start_epoch: the run's epoch at which this ``fit`` call starts.
        steps_per_epoch: iterations per epoch (for the global step).
        log_freq: log train scalars every N steps.
        writer: a ``visualdl.LogWriter``-like object (default: a new ``LogWriter(logdir)``).
        warn: where the one warning goes.
        optimizer: its learning rate is logged as ``train/lr`` (None: not logged).
    """

    def __init__(self, logdir: str, start_epoch: int, steps_per_epoch: int, log_freq: int = 10, writer=None,
                 warn=None, optimizer=None):
        super().__init__()
        self.optimizer = optimizer
        if writer is None:
            from visualdl import LogWriter
            writer = LogWriter(logdir=logdir)
        self.writer = writer
        self.start_epoch, self.steps_per_epoch, self.log_freq = start_epoch, steps_per_epoch, log_freq
        self.epoch = start_epoch
        self.warn = warn or (lambda m: print(f"warning: {m}"))
        self.enabled = True

    def _safely(self, write) -> None:
        if not self.enabled:
            return
        try:
            write()
        except OSError as e:
            self.enabled = False
            self.warn(f"VisualDL logging stopped: {e.strerror or e}; training continues without it")

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def on_train_batch_end(self, step, logs=None):
        if step % self.log_freq:
            return
        gstep = self.epoch * self.steps_per_epoch + step
        logs = logs or {}

        def write():
            for k, v in logs.items():
                if k in ("step", "batch_size"):
                    continue
                v = v[0] if isinstance(v, (list, tuple)) else v
                self.writer.add_scalar(f"train/{k}", float(v), gstep)
            if self.optimizer is not None:
                self.writer.add_scalar("train/lr", float(self.optimizer.get_lr()), gstep)
        self._safely(write)

    def log_epoch(self, record: dict) -> None:
        """Per-epoch scalars: every ``eval_*``, ``ema_*`` and ``amp_*`` entry of a history record, and the
        training images per second (``train/images_per_s``)."""
        def write():
            for k, v in record.items():
                if v is None or not isinstance(v, (int, float)) or k == "epoch":
                    continue
                group, _, name = k.partition("_")
                if k == "train_images_per_s":
                    self.writer.add_scalar("train/images_per_s", float(v), record["epoch"])
                elif group in ("eval", "ema", "amp"):
                    self.writer.add_scalar(f"{group}/{name}", float(v), record["epoch"])
            self.writer.flush()
        self._safely(write)

    def on_train_end(self, logs=None):
        self._safely(self.writer.flush)


class DropBlockSchedule(Callback):
    """DropBlock's keep probability ramped linearly from 1.0 to each layer's configured value over the run
    (Ghiasi et al., arXiv 1810.12890, §4: a fixed keep_prob from the start hurts), set before every step
    from the run's global step, so a resumed run continues the ramp where it stopped."""

    def __init__(self, layers, start_epoch: int, steps_per_epoch: int, total_epochs: int):
        super().__init__()
        self.targets = [(layer, layer.keep_prob) for layer in layers]
        self.start_epoch, self.steps_per_epoch = start_epoch, steps_per_epoch
        self.total = max(1, steps_per_epoch * total_epochs)
        self.epoch = start_epoch

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def on_train_batch_begin(self, step, logs=None):
        from ..layers.dropblock import linear_keep_prob
        gstep = self.epoch * self.steps_per_epoch + step
        for layer, final in self.targets:
            layer.set_keep_prob(linear_keep_prob(gstep, self.total, final))
