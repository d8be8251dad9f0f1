"""The config-driven trainer, built on ``paddle.Model`` (hapi).

``Trainer(cfg).fit()`` builds data, model, optimizer and LR schedule from a validated config, then runs
``Model.fit`` with the callbacks of ``engine.callbacks``. After each evaluated epoch it evaluates the raw
weights (and the EMA weights when ``EMA.enable``), appends a record to ``metrics.jsonl``, writes the
checkpoint ``checkpoints/latest.pdckpt`` (model, optimizer with its LR position, EMA, AMP scaler, epoch,
best metric, history) and, on a new best, ``best.pdparams`` / ``best.ema.pdparams``. Every file is written
atomically. ``Global.resume`` (``auto`` or a path) continues at the next epoch.

Output folder::

    config.yaml  metrics.jsonl  best.pdparams  best.ema.pdparams  best.json  checkpoints/latest.pdckpt  vdl/
"""
from __future__ import annotations

import json
import os
import time

import paddle
import paddle.nn as nn
from paddle.callbacks import Callback

from ..config import dump_config
from ..data.build import build_datasets, build_loader
from ..errors import CheckpointError, ConfigError
from ..models import create_model
from ..utils.seed import seed_everything
from .callbacks import EMAUpdater, EpochProgBar, EpochSeeder, LossGuard, VisualDLLogger
from .checkpoint import (atomic_save, atomic_write_text, check_state_fits, load_file, load_weights,
                         optimizer_state_from_portable, optimizer_state_to_portable, write_json)
from .device import amp_configs, select_device
from .ema import ModelEMA
from .losses import build_loss
from .lr import build_lr_scheduler
from .optim import build_optimizer

__all__ = ["Trainer", "build_network", "is_main_process"]

CHECKPOINT = os.path.join("checkpoints", "latest.pdckpt")


def is_main_process() -> bool:
    """Rank 0 (or a single process): the one that writes logs and checkpoints."""
    return paddle.distributed.get_rank() == 0


def build_network(cfg: dict) -> nn.Layer:
    """The model of the ``Arch`` section, with its tricks applied; a bad name or option is a ConfigError."""
    arch = cfg["Arch"]
    try:
        net = create_model(arch["name"], num_classes=arch["num_classes"], **arch["options"])
    except KeyError as e:  # unknown model name
        raise ConfigError(f"Arch.name: {e}") from None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"Arch.options: {e}") from None
    if arch["tricks"]:
        try:
            from ..tricks import apply_tricks
        except ImportError:
            raise ConfigError("Arch.tricks is set, but this version has no trick surgery module") from None
        try:
            net = apply_tricks(net, arch["tricks"])
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"Arch.tricks: {e}") from None
    return net


class _EpochEnd(Callback):
    """Evaluation, history, checkpoints and the best model at the end of each epoch."""

    def __init__(self, trainer: "Trainer"):
        super().__init__()
        self.t = trainer

    def on_epoch_begin(self, epoch=None, logs=None):
        self.t_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.t.end_epoch(self.t.start_epoch + epoch, logs or {}, time.time() - self.t_start)


class Trainer:
    """Train and evaluate one config.

    Args:
        cfg: a validated config (``paddle_tricks.config.load_config``).
        log: where one-line notices go (``print`` by default).
    """

    def __init__(self, cfg: dict, log=print):
        self.cfg, self.log = cfg, log
        g = cfg["Global"]
        self.out = g["output_dir"]
        self.epochs, self.seed = g["epochs"], g["seed"]
        self.main = is_main_process()
        self.device = select_device(g["device"])
        nranks = paddle.distributed.get_world_size()
        if nranks > 1 and not paddle.distributed.is_initialized():
            paddle.distributed.init_parallel_env()

        seed_everything(self.seed)
        train_set, eval_set = build_datasets(cfg["Data"], seed=self.seed)
        self.classes = list(getattr(train_set, "classes", []) or [])
        if self.classes and len(self.classes) != cfg["Arch"]["num_classes"]:
            raise ConfigError(f"Arch.num_classes={cfg['Arch']['num_classes']} but the dataset has "
                              f"{len(self.classes)} classes")
        d = cfg["Data"]
        self.rdrop = cfg["Loss"]["rdrop_alpha"] > 0
        self.train_loader = build_loader(train_set, d["batch_size"], train=True, num_workers=d["num_workers"],
                                         seed=self.seed, duplicate=self.rdrop)
        self.eval_loader = build_loader(eval_set, d["eval_batch_size"] or d["batch_size"], train=False,
                                        num_workers=d["num_workers"], seed=self.seed)
        self.steps_per_epoch = len(self.train_loader)

        seed_everything(self.seed)
        self.network = build_network(cfg)
        if cfg["Arch"]["pretrained"]:
            load_weights(self.network, cfg["Arch"]["pretrained"])
        # the EMA copy is taken in fp32 before prepare(), where AMP O2 would cast the network
        self.ema = (ModelEMA(self.network, cfg["EMA"]["decay"], cfg["EMA"]["warmup"])
                    if cfg["EMA"]["enable"] else None)
        self.lr = build_lr_scheduler(cfg["LR"], self.steps_per_epoch, self.epochs)
        self.optimizer = build_optimizer(cfg["Optimizer"], self.network, self.lr)
        self.amp = amp_configs(cfg["AMP"], self.device, log=self.log if self.main else (lambda *_: None))
        self.model = paddle.Model(self.network)
        k = min(5, cfg["Arch"]["num_classes"])
        self.model.prepare(self.optimizer, build_loss(cfg["Loss"]), metrics=paddle.metric.Accuracy(topk=(1, k)),
                           amp_configs=self.amp)
        self.start_epoch = 0
        self.history: list[dict] = []
        self.best = {"metric": None, "value": -1.0, "epoch": None}
        self.vdl = None

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
            raise CheckpointError(f"cannot resume: no checkpoint at {os.path.abspath(resume)}")
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
                self.log("warning: the config differs from the checkpoint's: " + "; ".join(changed[:8]))

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
        atomic_save(state, self.checkpoint_path())

    # ------------------------------------------------------------------ epochs
    def evaluate(self, ema: bool = False) -> dict:
        """Loss, top-1 and top-k of the raw (or EMA) weights on the eval set."""
        verbose = 0 if not self.main else min(1, self.cfg["Global"]["verbose"])
        if ema:
            with self.ema.swapped_in(self.network):
                res = self.model.evaluate(self.eval_loader, verbose=verbose)
        else:
            res = self.model.evaluate(self.eval_loader, verbose=verbose)
        out = {}
        for k, v in res.items():
            v = v[0] if isinstance(v, (list, tuple)) else v
            out[k.replace("acc_", "")] = float(v)
        return out

    def end_epoch(self, epoch: int, train_logs: dict, seconds: float) -> None:
        """Everything that happens after epoch ``epoch`` (0-based) has trained."""
        g = self.cfg["Global"]
        last = epoch + 1 == self.epochs
        record = {"epoch": epoch + 1, "lr": float(self.optimizer.get_lr()), "time": round(seconds, 2)}
        for k, v in train_logs.items():
            if k not in ("step", "batch_size"):
                record[f"train_{k.replace('acc_', '')}"] = float(v[0] if isinstance(v, (list, tuple)) else v)
        if (epoch + 1) % g["eval_interval"] == 0 or last:
            record.update({f"eval_{k}": v for k, v in self.evaluate().items()})
            if self.ema is not None:
                record.update({f"ema_{k}": v for k, v in self.evaluate(ema=True).items()})
            key = "ema_top1" if self.ema is not None else "eval_top1"
            if record[key] > self.best["value"]:
                self.best = {"metric": key, "value": record[key], "epoch": epoch + 1}
                if self.main:
                    self._save_best(record)
        self.history.append(record)
        if self.main:
            atomic_write_text("".join(json.dumps(r) + "\n" for r in self.history),
                              os.path.join(self.out, "metrics.jsonl"))
            self.save_checkpoint(epoch + 1)
            if self.vdl is not None:
                self.vdl.log_epoch(record)
            if "eval_top1" in record:
                ema = f", EMA top-1 {record['ema_top1']:.4f}" if "ema_top1" in record else ""
                self.log(f"epoch {epoch + 1}/{self.epochs}: eval top-1 {record['eval_top1']:.4f}{ema} "
                         f"(best {self.best['value']:.4f} at epoch {self.best['epoch']})")

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
            os.makedirs(self.out, exist_ok=True)
            dump_config(self.cfg, os.path.join(self.out, "config.yaml"))
        g = self.cfg["Global"]
        callbacks = [EpochProgBar(self.start_epoch, self.epochs, g["log_freq"], g["verbose"] if self.main else 0),
                     EpochSeeder(self.seed, self.start_epoch, self.train_loader.epoch_sampler),
                     LossGuard(self.start_epoch, amp=self.amp is not None)]
        if self.ema is not None:
            callbacks.append(EMAUpdater(self.ema, self.network))
        if self.main and self.cfg["VisualDL"]["enable"]:
            self.vdl = VisualDLLogger(os.path.join(self.out, "vdl"), self.start_epoch, self.steps_per_epoch,
                                      g["log_freq"])
            callbacks.append(self.vdl)
        callbacks.append(_EpochEnd(self))
        self.model.fit(self.train_loader, epochs=self.epochs - self.start_epoch, callbacks=callbacks,
                       log_freq=g["log_freq"], verbose=g["verbose"] if self.main else 0)
        summary = self.summary()
        if self.main:
            self.log(summary["message"])
        return summary

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
