"""Publish a run's record into the repository: ``docs/results/runs/<page>/<name>/``, text only.

A record is what a reader needs to audit a quoted figure without the weights: the resolved ``config.yaml``, the
per-epoch ``metrics.jsonl``, ``best.json``, ``classes.json``, ``data_report.json`` when the loader wrote one, and
a ``summary.json`` (status, best / final / EMA top-1, epochs, training time, parameters and MAdds, machine, dates,
git commit, command). Weights and checkpoints are never copied. An unfinished run may be published; its summary
says ``"status": "unfinished"``.

Publishing again is allowed when the record is the same run grown further (same ``config.yaml``, the old
``metrics.jsonl`` a prefix of the new one); any other existing record is kept unless ``force``. The command is
``paddle-tricks publish`` (:mod:`paddle_tricks.cli.publish`); :mod:`paddle_tricks.report.pages` turns the
records of a page into its table.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..engine import run_files
from ..errors import UserError
from .runs import read_run

__all__ = ["RECORD_FILES", "SUMMARY", "Published", "check_name", "record_dir", "publish_run", "git_commit",
           "utc_stamp"]

# copied from the run folder when present; config and metrics make the record readable by report.runs
RECORD_FILES = (run_files.CONFIG, run_files.METRICS, run_files.BEST_JSON, run_files.CLASSES, run_files.DATA_REPORT)
SUMMARY = "summary.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Published:
    """What :func:`publish_run` did: the record folder, and ``created`` / ``updated`` / ``unchanged`` / ``replaced``."""

    path: str
    action: str
    status: str


def check_name(value: str, what: str) -> str:
    """A page or record name: letters, digits, ``_ . -``, no path separators."""
    if not _NAME.match(value or ""):
        raise UserError(f"{what} '{value}' is not a valid name: use letters, digits, '_', '.' and '-' only")
    return value


def record_dir(results_dir: str, page: str, name: str) -> str:
    """``<results_dir>/runs/<page>/<name>``."""
    return os.path.join(results_dir, "runs", check_name(page, "page"), check_name(name, "record name"))


def utc_stamp(seconds: float | None = None) -> str:
    """``2026-11-23T09:53Z`` for a POSIX time (default: now)."""
    t = _dt.datetime.now(_dt.timezone.utc) if seconds is None else _dt.datetime.fromtimestamp(seconds,
                                                                                                _dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%MZ")


def git_commit(folder: str) -> dict:
    """``{"commit": sha, "dirty": bool}`` of the checkout holding ``folder``; ``{}`` outside a git checkout."""
    def git(*args):
        return subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=20)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return {}
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _relation(dest: str, src: str) -> str:
    """How an existing record relates to the run: ``new``, ``same``, ``grown`` (same run, more epochs) or ``other``."""
    if not os.path.exists(dest):
        return "new"
    if not os.path.isdir(dest):
        return "other"
    old_cfg, new_cfg = _read(os.path.join(dest, run_files.CONFIG)), _read(os.path.join(src, run_files.CONFIG))
    old_m = _read(os.path.join(dest, run_files.METRICS)) or b""
    new_m = _read(os.path.join(src, run_files.METRICS)) or b""
    if old_cfg is None or old_cfg != new_cfg:
        return "other"
    if old_m == new_m:
        same = all(_read(os.path.join(dest, f)) == _read(os.path.join(src, f)) for f in RECORD_FILES)
        return "same" if same else "grown"
    return "grown" if new_m.startswith(old_m) else "other"


def _summary(src: str, command: str | None, log) -> dict:
    from ..utils.machine import machine_info
    from .compare import summarize_run
    run = read_run(src)
    row = summarize_run(run, latency=False, log=log)
    metrics = os.path.join(src, run_files.METRICS)
    return {
        "status": row.status, "epochs_done": row.epochs_done, "epochs_planned": row.epochs_planned,
        "model": row.model, "dataset": row.dataset, "tricks": row.tricks, "seed": row.seed,
        "best_top1": row.best_top1, "best_epoch": row.best_epoch, "final_top1": row.final_top1,
        "final_topk": row.final_topk, "topk": row.topk,
        "ema_best_top1": row.ema_best_top1, "ema_final_top1": row.ema_final_top1,
        "train_seconds": row.train_seconds, "params": row.params, "madds": row.madds, "input_hw": row.input_hw,
        "problems": row.notes,
        "config_written": utc_stamp(os.path.getmtime(os.path.join(src, run_files.CONFIG))),
        "last_epoch_written": utc_stamp(os.path.getmtime(metrics)) if os.path.isfile(metrics) else None,
        "published": utc_stamp(),
        "machine": machine_info() + " (the machine that published the record)",
        "git": git_commit(os.path.dirname(os.path.abspath(__file__))),
        "command": command,
        "source_folder": os.path.abspath(src),
    }


def publish_run(run_dir: str, results_dir: str, page: str, name: str | None = None, force: bool = False,
                command: str | None = None, log=print) -> Published:
    """Copy the text record of ``run_dir`` to ``<results_dir>/runs/<page>/<name>/`` and write its summary.

    Args:
        run_dir: a run folder (``Global.output_dir`` of a training run), finished or not.
        results_dir: the results pages folder (``docs/results``); it must exist.
        page: the results page the run belongs to (``caltech16``).
        name: the record's name (default: the run folder's name).
        force: replace an existing record of another run.
        command: the command that trained the run, recorded in the summary.
        log: where progress lines go.

    Raises:
        UserError: not a run folder, no ``config.yaml``, a missing results folder, or another record in the way.
    """
    run = read_run(run_dir)  # NotARunError (a UserError) for a path that is not a run
    if run.config is None or not os.path.isfile(os.path.join(run_dir, run_files.CONFIG)):
        raise UserError(f"{run_dir}: no readable {run_files.CONFIG}; a record without the config cannot be audited")
    if not os.path.isdir(results_dir):
        raise UserError(f"results folder {results_dir} does not exist; run from the repository root or pass "
                        f"--results-dir")
    dest = record_dir(results_dir, page, name or run.name)
    relation = _relation(dest, run_dir)
    if relation == "other" and not force:
        raise UserError(f"{dest} holds the record of another run (different config.yaml or metrics.jsonl); "
                        f"choose another --name, or pass --force to replace it")
    if relation == "other" and os.path.isdir(dest):
        shutil.rmtree(dest)
    elif relation == "other":
        os.remove(dest)
    os.makedirs(dest, exist_ok=True)
    for f in RECORD_FILES:
        src = os.path.join(run_dir, f)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(dest, f))
    summary = _summary(run_dir, command, log)
    old = _read(os.path.join(dest, SUMMARY))
    if relation == "same" and old is not None:  # keep the first publication's date and machine
        summary = {**summary, **{k: v for k, v in json.loads(old).items()
                                 if k in ("published", "machine", "git", "command") and v}}
    with open(os.path.join(dest, SUMMARY), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    action = {"new": "created", "same": "unchanged", "grown": "updated", "other": "replaced"}[relation]
    return Published(dest, action, summary["status"])
