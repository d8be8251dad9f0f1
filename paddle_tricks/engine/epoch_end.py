"""``EpochEnd``: after each epoch, check the weights, evaluate, keep the best, save the checkpoint, log metrics.

The order is what makes a kill at any moment recoverable: the weights are checked to be finite first (else the
run stops, keeping the previous checkpoint), then the best weights, the checkpoint, and only then
``metrics.jsonl``, so the files on disk never run ahead of the checkpoint a resume would start from.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
from paddle.callbacks import Callback

from ..utils.atomic import atomic_write_text
from . import run_files
from .callbacks import TrainingDiverged, divergence_hint, nonfinite_tensors
from .progress import epoch_line

__all__ = ["EpochEnd", "epoch_metrics", "evaluated_weights"]


class EpochEnd(Callback):
    """Evaluation, history, checkpoints and the best model at the end of each epoch.

    Args:
        trainer: the ``Trainer`` whose components (model, EMA, optimizer, checkpointer, progress) are used.
        log, warn: where the epoch line and warnings go.
    """

    def __init__(self, trainer, log=print, warn=print):
        super().__init__()
        self.t, self.log, self.warn = trainer, log, warn
        self.started = time.time()
        self.epoch_seconds: list[float] = []   # wall time of each epoch of this process (train + eval + save)

    def on_epoch_begin(self, epoch=None, logs=None):
        self.started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.end_epoch(self.t.start_epoch + epoch, logs or {}, time.time() - self.started)

    def end_epoch(self, epoch: int, train_logs: dict, seconds: float) -> None:
        """Everything that happens after run epoch ``epoch`` (0-based) has trained."""
        t = self.t
        cfg, progress = t.cfg, t.progress
        last = epoch + 1 == t.epochs
        self.check_finite(epoch)
        record = {"epoch": epoch + 1, "lr": float(t.optimizer.get_lr()), "time": round(seconds, 2)}
        record.update({f"train_{k}": v for k, v in epoch_metrics(train_logs).items()})
        speed = getattr(t, "train_progress", None)
        if speed is not None and speed.images:
            record["train_images_per_s"] = round(speed.images_per_s, 2)   # hapi's batch_size counts all ranks
        if t.amp_counter is not None:
            record["amp_skipped_steps"] = t.amp_counter.epoch_skipped
            scale = t.amp_counter.loss_scale()
            if scale is not None:
                record["amp_loss_scale"] = scale
        if (epoch + 1) % cfg["Global"]["eval_interval"] == 0 or last:
            passes = evaluated_weights(cfg["Global"]["eval_weights"], t.ema is not None)
            for prefix in passes:
                record.update({f"{prefix}_{k}": v for k, v in t.evaluate(ema=prefix == "ema").items()})
            key = f"{passes[-1]}_top1"
            loss = record.get(f"{passes[0]}_loss", 0.0)
            if not np.isfinite(loss) and t.main:
                # finite but huge weights: not stopped (the weights can still recover), but said loudly
                self.warn(f"the evaluation loss is {loss} after epoch {epoch + 1} although every "
                          f"weight is finite: the run is probably diverging. {divergence_hint(t.amp is not None)}")
            if record[key] > progress.best["value"]:
                progress.best = {"metric": key, "value": record[key], "epoch": epoch + 1}
                if t.main:
                    t.checkpointer.save_best(progress.best, record)
        progress.history.append(record)
        progress.epoch = epoch + 1
        if not t.main:
            return
        t.checkpointer.save(progress, cfg)
        atomic_write_text("".join(json.dumps(r) + "\n" for r in progress.history),
                          os.path.join(t.out, run_files.METRICS))
        if t.vdl is not None:
            t.vdl.log_epoch(record)
        self.epoch_seconds.append(time.time() - self.started)
        mean = sum(self.epoch_seconds) / len(self.epoch_seconds)
        self.log(epoch_line({**record, "time": self.epoch_seconds[-1]}, t.epochs,
                            eta_seconds=mean * (t.epochs - epoch - 1)))

    def check_finite(self, epoch: int) -> None:
        """Stop before saving if any weight or BN statistic is NaN/Inf (a last-step blow-up the loss missed)."""
        bad = nonfinite_tensors(self.t.network, buffers=True)
        if bad:
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            raise TrainingDiverged(f"the weights became NaN/Inf during epoch {epoch + 1} ({bad[0]}{more}); "
                                   f"{self.t.kept()}. {divergence_hint(self.t.amp is not None)}")


def epoch_metrics(logs: dict) -> dict:
    """``{loss, top1, top5}`` from hapi logs: ``loss`` is the epoch-mean cross-entropy (hapi's own ``loss``
    is the last batch's, so it is dropped), accuracies are accumulated over the epoch."""
    out = {}
    for k, v in logs.items():
        if k in ("step", "batch_size", "loss"):
            continue
        v = float(v[0] if isinstance(v, (list, tuple)) else v)
        out["loss" if k == "ce" else k.replace("acc_", "")] = v
    return out


def evaluated_weights(eval_weights: str, has_ema: bool) -> list[str]:
    """The record prefixes of the evaluations after an epoch, in order: ``eval`` (raw weights) and/or ``ema``.
    The last one is the weights the best checkpoint is chosen by (``Global.eval_weights``)."""
    if not has_ema or eval_weights == "raw":
        return ["eval"]
    return ["ema"] if eval_weights == "ema" else ["eval", "ema"]
