"""``run_training``: the one entry point of the command line into the engine.

It loads the config, holds the run folder (``RunLock``) for the whole run, and then either resumes exactly
(``engine.resume``: the saved config, overrides that cannot alter the result) or starts a new run in a folder
that holds no other run's results: a folder that does is refused, or with ``backup`` its results are first
moved to a sibling folder. Nothing of an earlier run is modified unless the user asked for it.
"""
from __future__ import annotations

import contextlib
import os
import time

from ..config import load_config
from ..configs import resolve_config
from ..errors import CheckpointError, UserError
from . import run_files
from .checkpoint import Checkpointer
from .preflight import check_output_dir
from .resume import resumed_config
from .run_lock import RunLock
from .trainer import Trainer, is_main_process

__all__ = ["run_training", "RunFolderTaken", "earlier_results", "move_to_backup"]


class RunFolderTaken(UserError):
    """The folder holds another run's results and the user did not say what to do with them."""


def earlier_results(output_dir: str) -> list[str]:
    """The files and folders of a run's results present in ``output_dir`` (``run_files.RESULTS``)."""
    return [name for name in run_files.RESULTS if os.path.exists(os.path.join(output_dir, name))]


def move_to_backup(output_dir: str) -> str:
    """Move everything in ``output_dir`` but the lock and the live launcher's logs to a new sibling
    ``<output_dir>.backup-<time>``; its path."""
    base = f"{os.path.abspath(output_dir).rstrip(os.sep)}.backup-{time.strftime('%Y%m%d-%H%M%S')}"
    backup, n = base, 1
    while os.path.exists(backup):
        n += 1
        backup = f"{base}-{n}"
    os.makedirs(backup)
    for name in os.listdir(output_dir):
        if name not in (run_files.LOCK, run_files.LAUNCH_LOG):
            os.replace(os.path.join(output_dir, name), os.path.join(backup, name))
    return backup


def _checkpoint_to_resume(output_dir: str, resume) -> str:
    if resume in ("auto", True):
        path = Checkpointer.find(output_dir)
        if path is None:
            raise CheckpointError(f"--resume: there is no checkpoint to resume in {os.path.abspath(output_dir)} "
                                  f"(looked for {run_files.CHECKPOINT}); to start a new run, leave out --resume")
        return path
    path = Checkpointer.find(resume) if os.path.isdir(resume) else resume
    if not path or not os.path.isfile(path):
        raise CheckpointError(f"--resume: no checkpoint at {os.path.abspath(resume)}")
    return path


def run_training(config: str, overrides: list[str] = (), resume: str | None = None, backup: bool = False,
                 log=print) -> dict:
    """Train the config ``config`` (a YAML file or a shipped config name) with ``-o`` ``overrides``.

    Args:
        resume: ``None`` (a new run, unless the config's ``Global.resume`` says otherwise), ``'auto'`` (this
            run's own checkpoint, which must exist) or a checkpoint file or run folder.
        backup: when ``Global.output_dir`` holds another run's results, move them to
            ``<output_dir>.backup-<time>`` and start over (without it, such a folder is refused).
        log: where one-line notices go.

    Returns:
        the ``Trainer.fit`` summary.
    """
    overrides = list(overrides)
    main = is_main_process()
    given = load_config(resolve_config(config), overrides, notice=log if main else None)
    out = given["Global"]["output_dir"]
    if resume is None and given["Global"]["resume"]:
        resume = given["Global"]["resume"]
        if resume == "auto" and Checkpointer.find(out) is None:
            resume = None                     # Global.resume: auto resumes only when there is a checkpoint
    if main:
        check_output_dir(out)                 # before the lock creates the folder
    with RunLock(out) if main else contextlib.nullcontext():
        cfg, path = given, None
        if resume:
            path = _checkpoint_to_resume(out, resume)
            ckpt = Checkpointer.read(path)
            if ckpt.get("config"):
                cfg = resumed_config(ckpt["config"], overrides, out, ckpt["epoch"], given=given,
                                     log=log if main else (lambda *_: None))
            elif main:
                log(f"note: {path} holds no config (an earlier version's checkpoint): the config given is used")
        if main and not (path and os.path.abspath(path).startswith(os.path.abspath(out) + os.sep)):
            _claim(out, backup, resumed=bool(path), log=log)
        return Trainer(cfg, log=log).fit(resume=path)


def _claim(out: str, backup: bool, resumed: bool, log) -> None:
    """Make sure ``out`` holds no other run's results before a new run writes there."""
    present = earlier_results(out)
    if not present:
        return
    if backup:
        log(f"moved the earlier run's results ({', '.join(present)}) to {move_to_backup(out)}")
        return
    start = "resume from a checkpoint of another folder into it" if resumed else "start a new run in it"
    raise RunFolderTaken(f"{os.path.abspath(out)} holds the results of another run ({', '.join(present[:4])}"
                         f"{' ...' if len(present) > 4 else ''}); nothing was changed. To continue that run add "
                         f"--resume; to {start}, choose another folder (-o Global.output_dir=...) or add --backup "
                         f"to move the old results to {os.path.abspath(out)}.backup-<time> first")
