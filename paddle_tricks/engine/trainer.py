"""The config-driven trainer, built on ``paddle.Model`` (hapi).

``Trainer(cfg).fit()`` builds model, data, optimizer and LR schedule from a validated config, then runs
``Model.fit`` with the callbacks of ``engine.callbacks``. Before anything trains, ``preflight`` pushes one
training and one evaluation sample through the transforms and the network (eval mode, no gradient), so a
config whose parts do not fit together fails at once with one message instead of in the first batch. After each evaluated epoch it evaluates the raw
weights (and the EMA weights when ``EMA.enable``), appends a record to ``metrics.jsonl``, writes the
checkpoint ``checkpoints/latest.pdckpt`` (model, optimizer with its LR position, EMA, AMP scaler, epoch,
best metric, history) and, on a new best, ``best.pdparams`` / ``best.ema.pdparams``. Every file is written
atomically. ``Global.resume`` (``auto`` or a path) continues at the next epoch.

Faults: a non-finite loss (``LossGuard``) or non-finite weights at the end of an epoch stop the run with
one message; the checkpoint of the last good epoch stays. Under AMP the steps the dynamic loss scale
skipped are counted per epoch (``amp_skipped_steps``). Files skipped or replaced by the image loader are
listed in ``data_report.json``. For kill tests, ``PADDLE_TRICKS_TEST_HANG`` (``engine/testhooks.py``) pauses
the run at a given step or save. See docs/RELIABILITY.md.

Output folder::

    config.yaml  metrics.jsonl  best.pdparams  best.ema.pdparams  best.json  checkpoints/latest.pdckpt  vdl/
    data_report.json (only when the loader skipped or replaced files)
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import time

import numpy as np
import paddle
import paddle.nn as nn
from paddle.callbacks import Callback

from ..config import dump_config
from ..data.build import build_datasets, build_loader
from ..data.image_list import load_failures, warn_user
from ..errors import CheckpointError, ConfigError, UserError
from ..models import build_network
from ..utils.seed import seed_everything
from . import testhooks
from .callbacks import (AMPSkipCounter, DropBlockSchedule, EMAUpdater, EpochProgBar, EpochSeeder, LossGuard, TrainingDiverged,
                        VisualDLLogger, divergence_hint, nonfinite_tensors)
from .checkpoint import (atomic_save, atomic_write_text, check_state_fits, load_file, load_weights,
                         optimizer_state_from_portable, optimizer_state_to_portable, remove_stale_temps,
                         write_json)
from ..utils.messages import one_line
from .device import amp_configs, select_device
from .ema import ModelEMA
from ..losses import build_loss
from ..optim import build_lr_scheduler, build_optimizer
from .metrics import MeanCrossEntropy

__all__ = ["Trainer", "is_main_process", "preflight"]

CHECKPOINT = os.path.join("checkpoints", "latest.pdckpt")
FAILURE_LOG = "data_failures.log"
DATA_REPORT = "data_report.json"


def is_main_process() -> bool:
    """Rank 0 (or a single process): the one that writes logs and checkpoints."""
    return paddle.distributed.get_rank() == 0


class _EpochEnd(Callback):
    """Evaluation, history, checkpoints and the best model at the end of each epoch."""

    def __init__(self, trainer: "Trainer"):
        super().__init__()
        self.t = trainer

    def on_epoch_begin(self, epoch=None, logs=None):
        self.t_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.t.end_epoch(self.t.start_epoch + epoch, logs or {}, time.time() - self.t_start)


def _check_output_dir(path: str) -> None:
    """``Global.output_dir`` must be a folder we can create and write, checked before anything trains."""
    p = os.path.abspath(path)
    if os.path.exists(p) and not os.path.isdir(p):
        raise ConfigError(f"Global.output_dir={path} is a file, not a folder")
    probe = p
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ConfigError(f"Global.output_dir={path} cannot be created: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"Global.output_dir={path} cannot be written: no write permission on {probe}")


def _first_sample(dataset, split: str, key: str):
    # paddle's Compose prints a failing transform's traceback to stdout before re-raising: keep it quiet,
    # the error below says what failed
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return dataset[0]
    except UserError:
        raise
    except Exception as e:  # any transform failure: the config's transforms do not fit the data
        raise ConfigError(f"{key} cannot process the first {split} sample: {type(e).__name__}: "
                          f"{one_line(e, 250)}") from None


@paddle.no_grad()
def preflight(network: nn.Layer, train_set, eval_set, cfg: dict) -> None:
    """One training and one evaluation sample through the transforms and the network, before training.

    Catches what only shows when data meets model: transforms that fail on the images, samples that are
    not float CHW tensors, inputs too small for the net, an output that is not ``[N, num_classes]``.
    The network runs in eval mode without gradients, so no weight or BN statistic changes.
    """
    num_classes = cfg["Arch"]["num_classes"]
    was_training = network.training
    network.eval()
    try:
        for dataset, split, key in ((train_set, "training", "Data.train_transforms"),
                                    (eval_set, "evaluation", "Data.eval_transforms")):
            image = _first_sample(dataset, split, key)[0]
            arr = image.numpy() if isinstance(image, paddle.Tensor) else np.asarray(image)
            if arr.dtype.kind != "f":
                raise ConfigError(f"{key} gives {arr.dtype} samples of shape {list(arr.shape)}; the network needs "
                                  f"float CHW tensors: end the list with Transpose + Normalize (or ToTensor)")
            if not np.isfinite(arr).all():
                raise ConfigError(f"{key} gives samples with NaN/Inf values (a Normalize std of 0?)")
            x = paddle.to_tensor(arr[None].astype("float32"))
            try:
                out = network(x)
            except Exception as e:  # shape/channel errors surface as assorted Paddle exceptions
                raise ConfigError(f"Arch.name={cfg['Arch']['name']} cannot take the {split} samples of shape "
                                  f"{list(arr.shape)} made by {key}: {type(e).__name__}: "
                                  f"{one_line(e, 250)}") from None
            out = out[0] if isinstance(out, (list, tuple)) else out
            if list(out.shape) != [1, num_classes]:
                raise ConfigError(f"Arch.name={cfg['Arch']['name']} gives outputs of shape {list(out.shape)} for "
                                  f"one sample; expected [1, {num_classes}] (Arch.num_classes)")
    finally:
        if was_training:
            network.train()


def _image_datasets(dataset):
    """The ``ImageListDataset``s inside ``dataset`` (unwrapping subsets)."""
    while dataset is not None:
        if hasattr(dataset, "skipped") and hasattr(dataset, "failed"):
            yield dataset
        dataset = getattr(dataset, "dataset", None)


class Trainer:
    """Train and evaluate one config.

    Args:
        cfg: a validated config (``paddle_tricks.config.load_config``).
        log: where one-line notices go (``print`` by default).
        warn: where warnings go (default: stderr when ``log`` is ``print``, else ``log('warning: ...')``).
    """

    def __init__(self, cfg: dict, log=print, warn=None):
        self.cfg, self.log = cfg, log
        self.warn = warn or (warn_user if log is print else (lambda m: log(f"warning: {m}")))
        g = cfg["Global"]
        self.out = g["output_dir"]
        self.epochs, self.seed = g["epochs"], g["seed"]
        self.main = is_main_process()
        self.device = select_device(g["device"])
        if self.main:
            _check_output_dir(self.out)
        nranks = paddle.distributed.get_world_size()
        if nranks > 1 and not paddle.distributed.is_initialized():
            paddle.distributed.init_parallel_env()

        # the model first: a bad name, option or trick fails before any data is read
        seed_everything(self.seed)
        self.network = build_network(cfg)
        if cfg["Arch"]["pretrained"]:
            try:
                load_weights(self.network, cfg["Arch"]["pretrained"])
            except CheckpointError as e:
                raise CheckpointError(f"Arch.pretrained: {e}") from None

        train_set, eval_set = build_datasets(cfg["Data"], seed=self.seed)
        self.classes = list(getattr(train_set, "classes", []) or [])
        if self.classes and len(self.classes) != cfg["Arch"]["num_classes"]:
            raise ConfigError(f"Arch.num_classes={cfg['Arch']['num_classes']} but the dataset has "
                              f"{len(self.classes)} classes")
        self.datasets = {"train": train_set, "eval": eval_set}
        preflight(self.network, train_set, eval_set, cfg)
        seed_everything(self.seed)

        d = cfg["Data"]
        self.rdrop = cfg["Loss"]["rdrop_alpha"] > 0
        self.train_loader = build_loader(train_set, d["batch_size"], train=True, num_workers=d["num_workers"],
                                         seed=self.seed, duplicate=self.rdrop)
        self.eval_loader = build_loader(eval_set, d["eval_batch_size"] or d["batch_size"], train=False,
                                        num_workers=d["num_workers"], seed=self.seed)
        self.steps_per_epoch = len(self.train_loader)

        # the EMA copy is taken in fp32 before prepare(), where AMP O2 would cast the network
        self.ema = (ModelEMA(self.network, cfg["EMA"]["decay"], cfg["EMA"]["warmup"])
                    if cfg["EMA"]["enable"] else None)
        self.lr = build_lr_scheduler(cfg["LR"], self.steps_per_epoch, self.epochs)
        self.optimizer = build_optimizer(cfg["Optimizer"], self.network, self.lr)
        self.amp = amp_configs(cfg["AMP"], self.device, log=self.log if self.main else (lambda *_: None))
        self.model = paddle.Model(self.network)
        k = min(5, cfg["Arch"]["num_classes"])
        metrics = [paddle.metric.Accuracy(topk=(1, k)), MeanCrossEntropy()]
        self.model.prepare(self.optimizer, build_loss(cfg["Loss"]), metrics=metrics,
                           amp_configs=self.amp)
        if self.amp is not None:
            # Model creates its GradScaler lazily at the first batch; create it now so a resume can restore
            # the loss scale and the skip counter can watch it from the first step
            self.model._scaler = paddle.amp.GradScaler(**{k: v for k, v in self.amp.items() if k != "level"})
        self.start_epoch = 0
        self.history: list[dict] = []
        self.best = {"metric": None, "value": -1.0, "epoch": None}
        self.vdl = None
        self.amp_counter = None

    # ------------------------------------------------------------------ resume
    def checkpoint_path(self) -> str:
        return os.path.join(self.out, CHECKPOINT)

    def resolve_resume(self, resume: str | None) -> str | None:
        """The checkpoint to resume from: ``None``, ``'auto'`` (the run's own if it exists) or a path."""
        if not resume:
            return None
        if resume == "auto":
            path = self.checkpoint_path()
            return path if os.path.isfile(path) else None
        if os.path.isdir(resume):
            resume = os.path.join(resume, CHECKPOINT)
        if not os.path.isfile(resume):
            raise CheckpointError(f"cannot resume (--resume / Global.resume): no checkpoint at "
                                  f"{os.path.abspath(resume)}")
        return resume

    def load_checkpoint(self, path: str) -> None:
        """Restore model, optimizer (incl. LR position), EMA, AMP scaler, epoch, best and history."""
        ckpt = load_file(path)
        if not isinstance(ckpt, dict) or "model" not in ckpt:
            raise CheckpointError(f"{path} is not a training checkpoint of this suite (no 'model' entry)")
        check_state_fits(self.network, ckpt["model"], what=f"checkpoint {path}")
        self.network.set_state_dict(ckpt["model"])
        self.optimizer.set_state_dict(optimizer_state_from_portable(ckpt["optimizer"], self.network))
        if self.ema is not None:
            if ckpt.get("ema"):
                self.ema.set_state_dict(ckpt["ema"])
            else:
                self.log("the checkpoint has no EMA state: the EMA restarts from the current weights")
                self.ema = ModelEMA(self.network, self.cfg["EMA"]["decay"], self.cfg["EMA"]["warmup"])
        scaler = getattr(self.model, "_scaler", None)
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        self.start_epoch = int(ckpt["epoch"])
        self.best = ckpt.get("best", self.best)
        self.history = list(ckpt.get("history", []))
        old = ckpt.get("config")
        if old:
            changed = _config_changes(old, self.cfg)
            if changed and self.main:
                more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
                self.warn(f"the config differs from the checkpoint's in {len(changed)} key(s): "
                          + "; ".join(changed[:8]) + more)

    def save_checkpoint(self, epoch_done: int) -> None:
        scaler = getattr(self.model, "_scaler", None)
        state = {
            "model": self.network.state_dict(),
            "optimizer": optimizer_state_to_portable(self.optimizer.state_dict(), self.network),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "epoch": epoch_done,
            "best": self.best,
            "history": self.history,
            "config": self.cfg,
        }
        atomic_save(state, self.checkpoint_path(), before_replace=lambda: testhooks.pause_if(f"save:{epoch_done}"))

    # ------------------------------------------------------------------ epochs
    def evaluate(self, ema: bool = False) -> dict:
        """Loss, top-1 and top-k of the raw (or EMA) weights on the eval set."""
        verbose = 0 if not self.main else min(1, self.cfg["Global"]["verbose"])
        if ema:
            with self.ema.swapped_in(self.network):
                res = self.model.evaluate(self.eval_loader, verbose=verbose)
        else:
            res = self.model.evaluate(self.eval_loader, verbose=verbose)
        return _epoch_metrics(res)

    def end_epoch(self, epoch: int, train_logs: dict, seconds: float) -> None:
        """Everything that happens after epoch ``epoch`` (0-based) has trained.

        Order: check the weights are finite (else stop, keeping the previous checkpoint), evaluate, save the
        best weights, the checkpoint, then ``metrics.jsonl``, so the files on disk never run ahead of the
        checkpoint a resume would start from.
        """
        g = self.cfg["Global"]
        last = epoch + 1 == self.epochs
        self._check_finite(epoch)
        record = {"epoch": epoch + 1, "lr": float(self.optimizer.get_lr()), "time": round(seconds, 2)}
        record.update({f"train_{k}": v for k, v in _epoch_metrics(train_logs).items()})
        if self.amp_counter is not None:
            record["amp_skipped_steps"] = self.amp_counter.epoch_skipped
            scale = self.amp_counter.loss_scale()
            if scale is not None:
                record["amp_loss_scale"] = scale
        if (epoch + 1) % g["eval_interval"] == 0 or last:
            record.update({f"eval_{k}": v for k, v in self.evaluate().items()})
            if self.ema is not None:
                record.update({f"ema_{k}": v for k, v in self.evaluate(ema=True).items()})
            key = "ema_top1" if self.ema is not None else "eval_top1"
            if not np.isfinite(record.get("eval_loss", 0.0)) and self.main:
                # finite but huge weights: not stopped (the weights can still recover), but said loudly
                self.warn(f"the evaluation loss is {record['eval_loss']} after epoch {epoch + 1} although every "
                          f"weight is finite: the run is probably diverging. {divergence_hint(self.amp is not None)}")
            if record[key] > self.best["value"]:
                self.best = {"metric": key, "value": record[key], "epoch": epoch + 1}
                if self.main:
                    self._save_best(record)
        self.history.append(record)
        if self.main:
            self.save_checkpoint(epoch + 1)
            atomic_write_text("".join(json.dumps(r) + "\n" for r in self.history),
                              os.path.join(self.out, "metrics.jsonl"))
            if self.vdl is not None:
                self.vdl.log_epoch(record)
            if "eval_top1" in record:
                ema = f", EMA top-1 {record['ema_top1']:.4f}" if "ema_top1" in record else ""
                self.log(f"epoch {epoch + 1}/{self.epochs}: eval top-1 {record['eval_top1']:.4f}{ema} "
                         f"(best {self.best['value']:.4f} at epoch {self.best['epoch']})")

    def _check_finite(self, epoch: int) -> None:
        """Stop before saving if any weight or BN statistic is NaN/Inf (a last-step blow-up the loss missed)."""
        bad = nonfinite_tensors(self.network, buffers=True)
        if bad:
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            raise TrainingDiverged(f"the weights became NaN/Inf during epoch {epoch + 1} ({bad[0]}{more}); "
                                   f"{self._kept()}. {divergence_hint(self.amp is not None)}")

    def _kept(self) -> str:
        """Which checkpoint survives a stop now."""
        if self.main and os.path.isfile(self.checkpoint_path()) and self.history:
            return (f"the last good checkpoint (epoch {self.history[-1]['epoch']}) is kept: "
                    f"{self.checkpoint_path()}")
        return "no epoch had finished, so there is no checkpoint to keep"

    def _save_best(self, record: dict) -> None:
        atomic_save(self.network.state_dict(), os.path.join(self.out, "best.pdparams"))
        if self.ema is not None:
            atomic_save(self.ema.weights(), os.path.join(self.out, "best.ema.pdparams"))
        write_json({**self.best, "record": record}, os.path.join(self.out, "best.json"))

    # ------------------------------------------------------------------ fit
    def fit(self, resume: str | None = None) -> dict:
        """Train to ``Global.epochs`` (resuming if asked) and return the summary."""
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
        if self.main:
            try:
                os.makedirs(self.out, exist_ok=True)
            except OSError as e:
                raise ConfigError(f"Global.output_dir={self.out} cannot be created: {e.strerror or e}") from None
            stale = remove_stale_temps(self.out) + remove_stale_temps(os.path.dirname(self.checkpoint_path()))
            if stale:
                self.log(f"removed {len(stale)} temporary file(s) of a save that was interrupted: "
                         + ", ".join(os.path.basename(f) for f in stale))
            dump_config(self.cfg, os.path.join(self.out, "config.yaml"))
            self._prepare_data_report()
        g = self.cfg["Global"]
        callbacks = [EpochProgBar(self.start_epoch, self.epochs, g["log_freq"], g["verbose"] if self.main else 0),
                     EpochSeeder(self.seed, self.start_epoch, self.train_loader.epoch_sampler),
                     LossGuard(self.start_epoch, amp=self.amp is not None, kept=self._kept,
                               steps_per_epoch=self.steps_per_epoch, network=self.network,
                               check_every=g["log_freq"])]
        scaler = getattr(self.model, "_scaler", None)
        if scaler is not None:
            self.amp_counter = AMPSkipCounter(scaler)
            callbacks.append(self.amp_counter)
        if self.ema is not None:
            callbacks.append(EMAUpdater(self.ema, self.network))
        from ..layers.dropblock import DropBlock
        drop_blocks = [m for m in self.network.sublayers() if isinstance(m, DropBlock)]
        if drop_blocks:
            callbacks.append(DropBlockSchedule(drop_blocks, self.start_epoch, self.steps_per_epoch, self.epochs))
        if self.main and self.cfg["VisualDL"]["enable"]:
            self.vdl = VisualDLLogger(os.path.join(self.out, "vdl"), self.start_epoch, self.steps_per_epoch,
                                      g["log_freq"], warn=self.warn)
            callbacks.append(self.vdl)
        if testhooks.requested():
            callbacks.append(testhooks.StepPause(self.start_epoch))
        callbacks.append(_EpochEnd(self))
        self.model.fit(self.train_loader, epochs=self.epochs - self.start_epoch, callbacks=callbacks,
                       log_freq=g["log_freq"], verbose=g["verbose"] if self.main else 0)
        summary = self.summary()
        if self.main:
            self._finish_data_report()
            self.log(summary["message"])
        return summary

    # ------------------------------------------------------------------ data report
    def _prepare_data_report(self) -> None:
        """Point the image datasets at the failure log and write the report of the files skipped so far."""
        for split, dataset in self.datasets.items():
            for ds in _image_datasets(dataset):
                ds.failure_log = os.path.join(self.out, FAILURE_LOG)
                ds.split = ds.split or split
        report = self.data_report()
        if report["skipped"]:
            write_json(report, os.path.join(self.out, DATA_REPORT))
            self.warn(f"{len(report['skipped'])} unusable file(s) skipped; the list is in "
                      f"{os.path.join(self.out, DATA_REPORT)}")

    def data_report(self) -> dict:
        """``{'skipped': [...], 'replaced': [...]}``: files skipped when the datasets were built, and files
        replaced at load time (failed to decode or transform), each ``{split, path, reason}``."""
        skipped, replaced, seen = [], [], set()
        for split, dataset in self.datasets.items():
            for ds in _image_datasets(dataset):
                skipped += [{"split": ds.split or split, "path": p, "reason": r} for p, r in ds.skipped]
                for p, r in ds.failed.items():
                    if p not in seen:
                        seen.add(p)
                        replaced.append({"split": ds.split or split, "path": p, "reason": r})
        for split, p, r in load_failures(os.path.join(self.out, FAILURE_LOG)):
            if p not in seen:
                seen.add(p)
                replaced.append({"split": split, "path": p, "reason": r})
        return {"skipped": skipped, "replaced": replaced}

    def _finish_data_report(self) -> None:
        report = self.data_report()
        if not (report["skipped"] or report["replaced"]):
            return
        write_json(report, os.path.join(self.out, DATA_REPORT))
        names = ", ".join(os.path.basename(r["path"]) for r in report["replaced"][:5])
        more = f" and {len(report['replaced']) - 5} more" if len(report["replaced"]) > 5 else ""
        self.warn(f"data: {len(report['skipped'])} file(s) skipped when the datasets were built, "
                  f"{len(report['replaced'])} replaced at load time" + (f" ({names}{more})" if names else "")
                  + f"; details in {os.path.join(self.out, DATA_REPORT)}")

    def summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        msg = "finished"
        if "eval_top1" in last:
            topk = next((k for k in last if k.startswith("eval_top") and k != "eval_top1"), None)
            msg = (f"final eval top-1 {last['eval_top1']:.4f}"
                   + (f", top-{topk[len('eval_top'):]} {last[topk]:.4f}" if topk else "")
                   + (f"; EMA top-1 {last['ema_top1']:.4f}" if "ema_top1" in last else "")
                   + f"; best {self.best['value']:.4f} at epoch {self.best['epoch']} "
                     f"-> {os.path.join(self.out, 'best.pdparams')}")
        return {"final": last, "best": self.best, "epochs": len(self.history), "message": msg,
                "output_dir": self.out}


def _config_changes(old: dict, new: dict) -> list[str]:
    ignore = {("Global", "resume"), ("Global", "epochs"), ("Global", "verbose"), ("Global", "log_freq")}
    out = []
    for sec in new:
        for k, v in (new.get(sec) or {}).items():
            o = (old.get(sec) or {}).get(k, "<absent>")
            if (sec, k) not in ignore and o != v:
                out.append(f"{sec}.{k}: {o!r} -> {v!r}")
    return out


def _epoch_metrics(logs: dict) -> dict:
    """``{loss, top1, top5}`` from hapi logs: ``loss`` is the epoch-mean cross-entropy (hapi's own ``loss``
    is the last batch's, so it is dropped), accuracies are accumulated over the epoch."""
    out = {}
    for k, v in logs.items():
        if k in ("step", "batch_size", "loss"):
            continue
        v = float(v[0] if isinstance(v, (list, tuple)) else v)
        out["loss" if k == "ce" else k.replace("acc_", "")] = v
    return out
