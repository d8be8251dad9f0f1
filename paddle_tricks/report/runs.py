"""Read a training run folder (``Global.output_dir`` of :class:`paddle_tricks.engine.trainer.Trainer`) robustly.

A run folder holds ``config.yaml`` (the resolved config), ``metrics.jsonl`` (one JSON record per epoch),
``best.json``, ``best.pdparams`` and ``checkpoints/latest.pdckpt``. :func:`read_run` returns what it can read
as a :class:`Run` and lists every problem (no metrics yet, fewer epochs than configured, a corrupt line, an
unreadable config) in ``Run.problems`` instead of failing: a report should show an unfinished run, not
stop at it. Only a path that is not a run folder at all raises :class:`NotARunError`.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..engine import run_files
from ..errors import UserError

__all__ = ["Run", "NotARunError", "read_run", "run_labels", "trick_summary", "eval_input_size",
           "is_run_folder"]

_MARKERS = (run_files.CONFIG, run_files.METRICS, run_files.CHECKPOINT, os.path.join("checkpoints", "latest.pdckpt"))


class NotARunError(UserError):
    """The path does not exist or is not a run folder of this suite."""


@dataclass
class Run:
    """What could be read of one run folder.

    Attributes:
        path: the folder.
        config: the resolved config (``None`` when ``config.yaml`` is missing or unreadable).
        records: the epoch records of ``metrics.jsonl`` in file order (unreadable lines are skipped).
        problems: human-readable reasons why the run is incomplete or partly unreadable.
    """

    path: str
    config: dict | None = None
    records: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.path))

    @property
    def planned_epochs(self) -> int | None:
        try:
            return int(self.config["Global"]["epochs"])
        except (TypeError, KeyError, ValueError):
            return None

    @property
    def epochs_done(self) -> int:
        return max((int(r.get("epoch", 0)) for r in self.records), default=0)

    @property
    def finished(self) -> bool:
        planned = self.planned_epochs
        return planned is not None and self.epochs_done >= planned

    @property
    def status(self) -> str:
        """``finished``, ``unfinished``, ``no metrics`` or ``no config``."""
        if self.config is None:
            return "no config"
        if not self.records:
            return "no metrics"
        return "finished" if self.finished else "unfinished"

    def evaluated(self) -> list[dict]:
        """The records that hold an evaluation (``eval_top1``, or only ``ema_top1`` for a run with
        ``Global.eval_weights: ema``), in epoch order."""
        return sorted((r for r in self.records if _is_num(r.get("eval_top1")) or _is_num(r.get("ema_top1"))),
                      key=lambda r: r.get("epoch", 0))

    def metric_keys(self) -> list[str]:
        keys: list[str] = []
        for r in self.records:
            keys += [k for k in r if k not in keys]
        return keys

    def topk_key(self, prefix: str = "eval") -> str | None:
        """The top-k key beside top-1 (``eval_top5``, or ``eval_top3`` for a 3-class run)."""
        for k in self.metric_keys():
            if k.startswith(f"{prefix}_top") and k != f"{prefix}_top1" and k[len(prefix) + 4:].isdigit():
                return k
        return None


def _is_num(v: Any) -> bool:
    """A finite number (JSON lets through ``1e400`` as infinity, and ``NaN``)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_run_folder(path: str) -> bool:
    """True when ``path`` is a folder holding at least one of the files a training run writes."""
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, m)) for m in _MARKERS)


def _not_a_run(path: str) -> NotARunError:
    if not os.path.exists(path):
        return NotARunError(f"{path}: no such folder")
    if not os.path.isdir(path):
        return NotARunError(f"{path}: not a folder; pass the run folder (the Global.output_dir of a training run)")
    inner = sorted(d for d in os.listdir(path) if is_run_folder(os.path.join(path, d)))
    hint = ""
    if inner:
        shown = ", ".join(inner[:6]) + (", ..." if len(inner) > 6 else "")
        hint = f"; it holds run folders ({shown}): pass them, e.g. {os.path.join(path, '*')}"
    return NotARunError(f"{path}: not a run folder (no {run_files.CONFIG}, {run_files.METRICS} or "
                        f"{run_files.CHECKPOINT}){hint}")


def read_run(path: str) -> Run:
    """Read the config and metrics history of one run folder.

    Args:
        path: the run folder.

    Returns:
        A :class:`Run`; problems are listed in ``Run.problems``.

    Raises:
        NotARunError: ``path`` does not exist or holds none of the files of a run.
    """
    if not is_run_folder(path):
        raise _not_a_run(path)
    run = Run(path=path)
    cfg_path = os.path.join(path, "config.yaml")
    if os.path.isfile(cfg_path):
        try:
            with open(cfg_path, encoding="utf-8") as f:
                cfg = yaml.safe_load(f)
            if not isinstance(cfg, dict):
                raise ValueError(f"a mapping was expected, got {type(cfg).__name__}")
            run.config = _complete(cfg, run.problems)
        except (OSError, ValueError, yaml.YAMLError) as e:
            run.problems.append(f"config.yaml unreadable ({type(e).__name__}: {str(e).splitlines()[0]})")
    else:
        run.problems.append("no config.yaml")

    metrics = os.path.join(path, "metrics.jsonl")
    if os.path.isfile(metrics):
        bad = dropped = 0
        try:
            with open(metrics, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            run.problems.append(f"metrics.jsonl unreadable ({type(e).__name__})")
            lines = []
        for line in lines:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(rec, dict) and _is_num(rec.get("epoch")) and rec["epoch"] >= 0:
                finite = {k: v for k, v in rec.items() if not (isinstance(v, float) and not math.isfinite(v))}
                dropped += len(rec) - len(finite)
                run.records.append(finite)
            else:
                bad += 1
        if bad:
            run.problems.append(f"{bad} unreadable line(s) in metrics.jsonl skipped")
        if dropped:
            run.problems.append(f"{dropped} non-finite value(s) in metrics.jsonl ignored")
        by_epoch = {int(r["epoch"]): r for r in run.records}  # a resumed run may repeat an epoch: keep the last
        run.records = [by_epoch[e] for e in sorted(by_epoch)]
    if not run.records:
        run.problems.append("no metrics yet (metrics.jsonl missing or empty)")
    elif run.planned_epochs is not None and run.epochs_done < run.planned_epochs:
        run.problems.append(f"unfinished: {run.epochs_done} of {run.planned_epochs} epochs")
    elif run.records and not run.evaluated():
        run.problems.append("no evaluated epoch in metrics.jsonl")
    return run


def _complete(cfg: dict, problems: list[str]) -> dict:
    """The config with defaults filled in (``validate``); the raw mapping if it no longer validates."""
    from ..config import validate
    try:
        return validate(cfg)
    except UserError as e:
        problems.append(f"config.yaml does not validate with this version ({e}); read as is")
        return cfg


def run_labels(paths: list[str]) -> list[str]:
    """Short unique labels: the folder name, or ``parent/name`` where two folders share a name."""
    names = [os.path.basename(os.path.normpath(p)) for p in paths]
    out = []
    for p, n in zip(paths, names):
        if names.count(n) > 1:
            parent = os.path.basename(os.path.dirname(os.path.normpath(os.path.abspath(p))))
            n = f"{parent}/{n}"
        out.append(n)
    # still equal (same parent name too): number them
    return [f"{n}#{i}" if out.count(n) > 1 else n for i, n in enumerate(out)]


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ",".join(_fmt_value(i) for i in v) + "]"
    return str(v)


def trick_summary(cfg: dict | None) -> str:
    """The tricks of a config in one short string (``conv3x3=acblock, rdrop(alpha=0.3)``); ``-`` for none.

    Covers ``Arch.tricks`` (probe settings ``input_size`` / ``in_channels`` left out, switched-off entries
    skipped) and R-Drop (``Loss.rdrop_alpha > 0``).
    """
    if not cfg:
        return "?"
    parts = []
    tricks = (cfg.get("Arch") or {}).get("tricks") or {}
    if isinstance(tricks, dict):
        for key, val in tricks.items():
            if key in ("input_size", "in_channels") or val is None or val is False:
                continue
            if isinstance(val, dict):
                val = dict(val)
                kind = val.pop("type", None)
                opts = ", ".join(f"{k}={_fmt_value(v)}" for k, v in val.items())
                if kind is None:
                    parts.append(f"{key}({opts})" if opts else key)
                else:
                    parts.append(f"{key}={kind}" + (f"({opts})" if opts else ""))
            else:
                parts.append(f"{key}={_fmt_value(val)}")
    alpha = (cfg.get("Loss") or {}).get("rdrop_alpha") or 0
    if _is_num(alpha) and alpha > 0:
        parts.append(f"rdrop(alpha={alpha:g})")
    return ", ".join(parts) if parts else "-"


def _size_of(args: Any) -> tuple[int, int] | None:
    """(H, W) of a Resize / CenterCrop ``size`` argument; an int means a square."""
    size = args.get("size") if isinstance(args, dict) else args
    if isinstance(size, bool):
        return None
    if isinstance(size, int):
        return size, size
    if isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        return int(size[0]), int(size[1])
    return None


def eval_input_size(cfg: dict | None) -> tuple[int, int] | None:
    """The (H, W) the network sees at evaluation, read from the config.

    The size of the last ``Resize`` / ``CenterCrop`` / ``RandomResizedCrop`` of ``Data.eval_transforms``
    (an int ``Resize`` is taken as a square, as for the usual square images); without one, the dataset's own
    size: ``Data.options.image_size`` (generated quickstart set), 28 for Fashion-MNIST, or
    ``Arch.options.input_size``. ``None`` when the config does not tell.
    """
    if not cfg:
        return None
    data = cfg.get("Data") or {}
    size = None
    for t in data.get("eval_transforms") or []:
        if isinstance(t, dict) and len(t) == 1:
            (name, args), = t.items()
            if name in ("Resize", "CenterCrop", "RandomResizedCrop"):
                size = _size_of(args) or size
    if size:
        return size
    opts = data.get("options") or {}
    if isinstance(opts.get("image_size"), int):
        return opts["image_size"], opts["image_size"]
    if data.get("dataset") == "fashion_mnist":
        return 28, 28
    arch_opts = (cfg.get("Arch") or {}).get("options") or {}
    if isinstance(arch_opts.get("input_size"), int):
        return arch_opts["input_size"], arch_opts["input_size"]
    return None
