"""What a training prints: a tqdm bar per epoch with the running loss, and one summary line per epoch.

The bar replaces hapi's ``ProgBarLogger`` (``Model.fit(verbose=0)``), whose ``loss`` is the last batch's and
whose ``Eval begin...`` blocks are unlabelled. ``TrainProgress`` also measures what the bar cannot show
afterwards: the training images per second and the seconds spent on the training batches alone, which the
trainer puts into the epoch's ``metrics.jsonl`` record (``train_images_per_s``, ``train_seconds``).

``epoch_line`` renders one record::

    epoch 3/10  train loss (epoch mean) 1.234  eval top-1 0.812 top-5 0.975  EMA top-1 0.800  lr 0.0123
    | 312 img/s  epoch 41.2 s  ETA 4m48s
"""
from __future__ import annotations

import sys
import time

from paddle.callbacks import Callback

__all__ = ["TrainProgress", "EvalProgress", "epoch_line", "format_duration"]


def _scalar(value) -> float:
    return float(value[0] if isinstance(value, (list, tuple)) else value)


class TrainProgress(Callback):
    """A tqdm bar over the training batches of each epoch, numbered in the run's epochs. Beside the running
    loss it shows a ``training ETA``: the run's training batches still to do, at this epoch's pace so far
    (evaluation not counted), so that a long run tells within a minute whether it fits the time it has.

    Args:
        start_epoch: the run's epoch at which this ``fit`` call starts (a resumed run counts on).
        total_epochs: ``Global.epochs``.
        steps_per_epoch: batches per epoch (the bar's length).
        show: draw the bar (rank 0 and ``Global.verbose`` > 0); the timing is measured either way.
        stream: where the bar goes (stderr by default, so stdout keeps only the summary lines).
    """

    def __init__(self, start_epoch: int, total_epochs: int, steps_per_epoch: int, show: bool = True,
                 stream=None):
        super().__init__()
        self.start_epoch, self.total_epochs, self.steps = start_epoch, total_epochs, steps_per_epoch
        self.show, self.stream = show, stream or sys.stderr
        self.bar = None
        self.images = 0
        self.train_seconds = 0.0

    def on_epoch_begin(self, epoch=None, logs=None):
        self.images, self.loss_sum, self.batches, self.done = 0, 0.0, 0, 0
        self.epochs_after = self.total_epochs - (self.start_epoch + (epoch or 0) + 1)
        self.t0 = time.perf_counter()
        if self.show:
            from tqdm import tqdm
            self.bar = tqdm(total=self.steps, desc=f"epoch {self.start_epoch + epoch + 1}/{self.total_epochs}",
                            unit="batch", leave=False, file=self.stream, dynamic_ncols=True)

    def on_train_batch_end(self, step, logs=None):
        logs = logs or {}
        self.images += int(logs.get("batch_size", 0))
        if "loss" in logs:
            self.loss_sum += _scalar(logs["loss"])
            self.batches += 1
        self.done += 1
        if self.bar is not None:
            left = max(self.steps - self.done, 0) + self.steps * max(self.epochs_after, 0)
            eta = (time.perf_counter() - self.t0) / self.done * left
            loss = f"loss (running mean) {self.running_loss:.4f}, " if self.batches else ""
            self.bar.set_postfix_str(f"{loss}training ETA {format_duration(eta)}", refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    @property
    def running_loss(self) -> float:
        """The mean training loss over this epoch's batches so far."""
        return self.loss_sum / self.batches if self.batches else float("nan")

    @property
    def images_per_s(self) -> float:
        """Training images per second of the last epoch (the training batches only)."""
        return self.images / self.train_seconds if self.train_seconds > 0 else 0.0


class EvalProgress(Callback):
    """A tqdm bar over the evaluation batches, labelled with which weights are evaluated (``Model.evaluate``'s
    own ``Eval begin...`` block says neither)."""

    def __init__(self, label: str, steps: int, show: bool = True, stream=None):
        super().__init__()
        self.label, self.steps, self.show, self.stream = label, steps, show, stream or sys.stderr
        self.bar = None

    def on_eval_begin(self, logs=None):
        if self.show:
            from tqdm import tqdm
            self.bar = tqdm(total=self.steps, desc=f"eval ({self.label})", unit="batch", leave=False,
                            file=self.stream, dynamic_ncols=True)

    def on_eval_batch_end(self, step, logs=None):
        if self.bar is not None:
            self.bar.update(1)

    def on_eval_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_duration(seconds: float) -> str:
    """``41.2 s``, ``4m48s`` or ``2h05m``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def epoch_line(record: dict, total_epochs: int, eta_seconds: float | None = None) -> str:
    """One line for a ``metrics.jsonl`` record: the figures a user watches, each named."""
    parts = [f"epoch {record['epoch']}/{total_epochs}"]
    if "train_loss" in record:
        parts.append(f"train loss (epoch mean) {record['train_loss']:.4f}")
    if "eval_top1" in record:
        topk = next((k for k in sorted(record) if k.startswith("eval_top") and k != "eval_top1"), None)
        parts.append(f"eval top-1 {record['eval_top1']:.4f}"
                     + (f" top-{topk[len('eval_top'):]} {record[topk]:.4f}" if topk else ""))
    if "ema_top1" in record:
        parts.append(f"EMA top-1 {record['ema_top1']:.4f}")
    if "lr" in record:
        parts.append(f"lr {record['lr']:.4g}")
    tail = []
    if record.get("train_images_per_s"):
        tail.append(f"{record['train_images_per_s']:.1f} img/s")
    if "time" in record:
        tail.append(f"epoch {format_duration(record['time'])}")
    if eta_seconds is not None and record["epoch"] < total_epochs:
        tail.append(f"ETA {format_duration(eta_seconds)}")
    return "  ".join(parts) + ("  | " + "  ".join(tail) if tail else "")
