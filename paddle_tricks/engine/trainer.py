"""The config-driven trainer, built on ``paddle.Model`` (hapi).

``Trainer(cfg).fit()`` runs the components that ``engine.builder`` makes from a validated config with
``Model.fit`` and the callbacks of ``engine.callbacks``; ``engine.epoch_end.EpochEnd`` evaluates the raw (and
EMA) weights after each evaluated epoch, keeps the best weights, writes the checkpoint (``engine.checkpoint``)
and then ``metrics.jsonl``. Every file is written atomically. ``Global.resume`` (``auto`` or a path) continues
at the next epoch.

Faults: a non-finite loss (``LossGuard``) or non-finite weights at the end of an epoch stop the run with
one message; the checkpoint of the last good epoch stays. Under AMP the steps the dynamic loss scale
skipped are counted per epoch (``amp_skipped_steps``). Files skipped or replaced by the image loader are
listed in ``data_report.json``. See docs/RELIABILITY.md; the run folder's files are named in ``run_files``.
"""
from __future__ import annotations

import contextlib
import os
import time

import paddle

from ..config import dump_config
from ..data.image_list import warn_user
from ..errors import CheckpointError, ConfigError, UserError
from ..utils.console import paddle_stderr_hidden
from ..utils.messages import one_line
from ..utils.atomic import remove_stale_temps, write_json
from . import run_files
from .builder import build_components, grad_scaler
from .callbacks import (AMPSkipCounter, DropBlockSchedule, EMAUpdater, EpochProgBar, EpochSeeder, LossGuard,
                        VisualDLLogger)
from .checkpoint import Checkpointer, Progress
from .data_report import DataReport
from .device import select_device
from .epoch_end import EpochEnd, epoch_metrics
from .exported_eval import EvalBackend, evaluate_exported
from .preflight import check_output_dir, preflight
from .progress import EvalProgress, TrainProgress
from .run_lock import RunLock

__all__ = ["Trainer", "is_main_process", "preflight"]


def is_main_process() -> bool:
    """Rank 0 (or a single process): the one that writes logs and checkpoints."""
    return paddle.distributed.get_rank() == 0


def _silent(*_):
    return None


class Trainer:
    """Train and evaluate one config.

    The command line goes through ``engine.run.run_training``, which also refuses a folder holding another
    run's results and reconciles a resumed config; ``Trainer`` alone trains what it is given.

    Args:
        cfg: a validated config (``paddle_tricks.config.load_config``).
        log: where one-line notices go (``print`` by default).
        warn: where warnings go (default: stderr when ``log`` is ``print``, else ``log('warning: ...')``).
        callbacks: extra ``paddle.callbacks.Callback``s, run after the trainer's own step callbacks and before
            the end-of-epoch evaluation and save.
    """

    def __init__(self, cfg: dict, log=print, warn=None, callbacks=()):
        self.cfg, self.log = cfg, log
        self.warn = warn or (warn_user if log is print else (lambda m: log(f"warning: {m}")))
        self.extra_callbacks = list(callbacks)
        g = cfg["Global"]
        self.out = g["output_dir"]
        self.epochs, self.seed = g["epochs"], g["seed"]
        self.main = is_main_process()
        self.device = select_device(g["device"])
        if self.main:
            check_output_dir(self.out)
        if paddle.distributed.get_world_size() > 1 and not paddle.distributed.is_initialized():
            with paddle_stderr_hidden():
                paddle.distributed.init_parallel_env()

        c = build_components(cfg, self.device, log=self.log if self.main else _silent)
        self.network, self.classes = c.network, c.classes
        self.datasets = {"train": c.train_set, "eval": c.eval_set}
        self.train_loader, self.eval_loader = c.train_loader, c.eval_loader
        self.steps_per_epoch = len(self.train_loader)
        self.lr, self.optimizer, self.amp, self.model = c.lr, c.optimizer, c.amp, c.model
        self.checkpointer = Checkpointer(self.out, self.network, self.optimizer, ema=c.ema)
        self.progress = Progress()
        self.start_epoch = 0
        self.vdl = None
        self.amp_counter = None
        self.eval_backend = EvalBackend(g["eval_backend"], self.device, paddle.distributed.get_world_size())

    @property
    def ema(self):
        """The run's ``ModelEMA`` (``None`` when ``EMA.enable`` is off)."""
        return self.checkpointer.ema

    # ------------------------------------------------------------------ resume
    def resolve_resume(self, resume: str | None) -> str | None:
        """The checkpoint to resume from: ``None``, ``'auto'`` (the run's own if it exists) or a path."""
        if not resume:
            return None
        if resume == "auto":
            return self.checkpointer.find(self.out)
        if os.path.isdir(resume):
            resume = self.checkpointer.find(resume) or os.path.join(resume, run_files.CHECKPOINT)
        if not os.path.isfile(resume):
            raise CheckpointError(f"cannot resume (--resume / Global.resume): no checkpoint at "
                                  f"{os.path.abspath(resume)}")
        return resume

    def load_checkpoint(self, path: str) -> dict | None:
        """Restore model, optimizer (incl. LR position), EMA, AMP scaler, epoch, best and history from ``path``;
        returns the config saved with the checkpoint."""
        self.checkpointer.scaler = grad_scaler(self.model)
        self.progress, saved_cfg = self.checkpointer.restore(path, log=self.log)
        self.start_epoch = self.progress.epoch
        planned = (saved_cfg or {}).get("Global", {}).get("epochs", self.epochs)
        if planned != self.epochs and self.progress.history and self.main:
            self.log(f"note: the learning rate continues at {float(self.optimizer.get_lr()):.4g} on the "
                     f"{self.epochs}-epoch schedule (the {planned}-epoch one had {self.progress.history[-1]['lr']:.4g})")
        return saved_cfg

    def kept(self) -> str:
        """Which checkpoint survives a stop now."""
        if self.main and os.path.isfile(self.checkpointer.path) and self.progress.history:
            return (f"the last good checkpoint (epoch {self.progress.history[-1]['epoch']}) is kept: "
                    f"{self.checkpointer.path}")
        return "no epoch had finished, so there is no checkpoint to keep"

    # ------------------------------------------------------------------ epochs
    def evaluate(self, ema: bool = False) -> dict:
        """Loss, top-1 and top-k of the raw (or EMA) weights on the eval set, in dygraph or through the exported
        predictor (``Global.eval_backend``)."""
        bar = EvalProgress("EMA weights" if ema else "raw weights", len(self.eval_loader),
                           show=self.main and self.cfg["Global"]["verbose"] == 1)
        with self.ema.swapped_in(self.network) if ema else contextlib.nullcontext():
            started = time.perf_counter()
            if self.eval_backend.exported:
                bar.on_eval_begin()
                try:
                    logs = evaluate_exported(self.network, self.eval_loader, self.cfg["Arch"]["num_classes"],
                                             bar.on_eval_batch_end)
                    self._note(self.eval_backend.timed(True, time.perf_counter() - started))
                    return epoch_metrics(logs)
                except UserError:
                    raise
                except Exception as e:  # noqa: BLE001 - export fails in many ways; dygraph always works
                    self.eval_backend.failed()
                    if self.main:
                        self.warn(f"evaluation through the exported predictor failed ({type(e).__name__}: "
                                  f"{one_line(e, 200)}); evaluating in dygraph from now on "
                                  f"(Global.eval_backend: dygraph skips the attempt)")
                finally:
                    bar.on_eval_end()
                started = time.perf_counter()
            logs = self.model.evaluate(self.eval_loader, verbose=0, callbacks=[bar])
            self._note(self.eval_backend.timed(False, time.perf_counter() - started))
            return epoch_metrics(logs)

    def _note(self, message: str | None) -> None:
        if message and self.main:
            self.log(message)

    def _callbacks(self) -> list:
        g = self.cfg["Global"]
        start = self.start_epoch
        verbose = g["verbose"] if self.main else 0
        # verbose 1: a tqdm bar per epoch; verbose 2: hapi's one line per log step
        self.train_progress = TrainProgress(start, self.epochs, self.steps_per_epoch, show=verbose == 1)
        callbacks = [self.train_progress,
                     EpochProgBar(start, self.epochs, g["log_freq"], 2 if verbose == 2 else 0),
                     EpochSeeder(self.seed, start, self.train_loader.epoch_sampler),
                     LossGuard(start, amp=self.amp is not None, kept=self.kept, steps_per_epoch=self.steps_per_epoch,
                               network=self.network, check_every=g["log_freq"], optimizer=self.optimizer)]
        scaler = grad_scaler(self.model)
        if scaler is not None:
            self.amp_counter = AMPSkipCounter(scaler)
            callbacks.append(self.amp_counter)
        if self.ema is not None:
            callbacks.append(EMAUpdater(self.ema, self.network))
        from ..layers.dropblock import DropBlock
        drop_blocks = [m for m in self.network.sublayers() if isinstance(m, DropBlock)]
        if drop_blocks:
            callbacks.append(DropBlockSchedule(drop_blocks, start, self.steps_per_epoch, self.epochs))
        if self.main and self.cfg["VisualDL"]["enable"]:
            self.vdl = VisualDLLogger(os.path.join(self.out, "vdl"), start, self.steps_per_epoch, g["log_freq"],
                                      warn=self.warn, optimizer=self.optimizer)
            callbacks.append(self.vdl)
        return callbacks + self.extra_callbacks + [EpochEnd(self, log=self.log, warn=self.warn)]

    # ------------------------------------------------------------------ fit
    def fit(self, resume: str | None = None) -> dict:
        """Train to ``Global.epochs`` (resuming if asked) and return the summary; the main process holds the
        run folder (``RunLock``) meanwhile."""
        with RunLock(self.out) if self.main else contextlib.nullcontext():
            return self._fit(resume)

    def _fit(self, resume: str | None) -> dict:
        resume = resume if resume is not None else self.cfg["Global"]["resume"]
        path = self.resolve_resume(resume)
        if path:
            self.load_checkpoint(path)
            if self.main:
                self.log(f"resumed from {path} after epoch {self.start_epoch}")
        if self.start_epoch >= self.epochs:
            if self.main:
                self.log(f"this run has already finished ({self.start_epoch}/{self.epochs} epochs); nothing to do. "
                         f"Raise Global.epochs to train further.")
            return self.summary()
        report = DataReport(self.datasets, self.out, warn=self.warn)
        if self.main:
            self._prepare_folder()
            report.start()
        self.checkpointer.scaler = grad_scaler(self.model)
        g = self.cfg["Global"]
        self.model.fit(self.train_loader, epochs=self.epochs - self.start_epoch, callbacks=self._callbacks(),
                       log_freq=g["log_freq"], verbose=0)
        summary = self.summary()
        if self.main:
            report.finish()
            self.log(summary["message"])
        return summary

    def _prepare_folder(self) -> None:
        try:
            os.makedirs(self.out, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"Global.output_dir={self.out} cannot be created: {e.strerror or e}") from None
        names = [os.path.basename(n) for n in run_files.RESULTS]
        stale = (remove_stale_temps(self.out, names)
                 + remove_stale_temps(os.path.dirname(self.checkpointer.path), names))
        if stale:
            self.log(f"removed {len(stale)} temporary file(s) of a save that was interrupted: "
                     + ", ".join(os.path.basename(f) for f in stale))
        dump_config(self.cfg, os.path.join(self.out, run_files.CONFIG))
        self.log(f"run folder: {os.path.abspath(self.out)} (config, metrics, checkpoints, best weights, logs)")
        classes = self.classes or range(self.cfg["Arch"]["num_classes"])
        write_json([str(c) for c in classes], os.path.join(self.out, run_files.CLASSES))

    def summary(self) -> dict:
        """The last record, the best epoch and a one-line message."""
        history, best = self.progress.history, self.progress.best
        last = history[-1] if history else {}
        msg = "finished"
        prefix = "eval" if "eval_top1" in last else "ema"
        if f"{prefix}_top1" in last:
            name = "eval" if prefix == "eval" else "EMA"
            topk = next((k for k in last if k.startswith(f"{prefix}_top") and k != f"{prefix}_top1"), None)
            msg = (f"final {name} top-1 {last[f'{prefix}_top1']:.4f}"
                   + (f", top-{topk[len(prefix) + 4:]} {last[topk]:.4f}" if topk else "")
                   + (f"; EMA top-1 {last['ema_top1']:.4f}" if prefix == "eval" and "ema_top1" in last else "")
                   + f"; best {best['value']:.4f} at epoch {best['epoch']} "
                     f"-> {run_files.run_file(self.out, run_files.BEST)}")
        return {"final": last, "best": best, "epochs": len(history), "message": msg, "output_dir": self.out}
