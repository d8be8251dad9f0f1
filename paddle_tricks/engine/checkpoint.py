"""Checkpoints written atomically: a temporary file in the same folder, flushed to disk, then ``os.replace``.

A crash, a ``SIGKILL`` or a full disk during a save leaves the previous file intact; the only trace is a
hidden temporary file (``.<name>.tmp<pid>``), which ``remove_stale_temps`` deletes when the next run starts.
``load_weights`` checks that a file fits the model and names every mismatched parameter.
"""
from __future__ import annotations

import errno
import json
import os
import re

import numpy as np
import paddle
import paddle.nn as nn

from ..errors import CheckpointError
from .messages import one_line

__all__ = ["atomic_save", "atomic_write_text", "load_file", "load_weights", "check_state_fits",
           "remove_stale_temps", "temp_files"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp(?P<pid>\d+)$")


def _fsync(path: str) -> None:
    """Push ``path`` (a file or a folder) to the disk; a no-op where the OS does not allow it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic(path: str, write, before_replace=None) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        write(tmp)
        _fsync(tmp)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
        _fsync(folder)
    except OSError as e:
        _remove_quietly(tmp)
        reason = e.strerror or str(e) or type(e).__name__
        hint = ("free disk space or choose another Global.output_dir"
                if e.errno in (errno.ENOSPC, errno.EDQUOT, None) else "check the folder's permissions")
        raise CheckpointError(f"could not write {path} ({reason}); the previous file is kept. "
                              f"To continue: {hint}, then rerun with --resume") from None
    except BaseException:  # a bug or an interrupt while writing: never leave the temporary file behind
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_files(folder: str) -> list[str]:
    """The temporary files of unfinished atomic writes in ``folder`` (any process)."""
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if _TEMP.match(f))


def remove_stale_temps(folder: str) -> list[str]:
    """Delete the temporary files that a killed process left in ``folder``; returns their paths.

    A temporary file is stale when the process that wrote it (its name ends in that process's id) is gone.
    """
    removed = []
    for path in temp_files(folder):
        if not _pid_alive(int(_TEMP.match(os.path.basename(path)).group("pid"))):
            _remove_quietly(path)
            removed.append(path)
    return removed


def atomic_save(obj, path: str, before_replace=None) -> None:
    """``paddle.save(obj, path)`` via a temporary file and a rename.

    Args:
        obj: what to save.
        path: the final file.
        before_replace: called after the temporary file is complete, just before the rename (test hook).
    """
    _atomic(path, lambda tmp: paddle.save(obj, tmp), before_replace)


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    _atomic(path, write)


def load_file(path: str):
    """``paddle.load(path)`` with a clear error for a missing or unreadable file."""
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint not found: {os.path.abspath(path)} is a folder; give a .pdparams or "
                              f".pdckpt file")
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: looked for {os.path.abspath(path)}")
    try:
        return paddle.load(path)
    except Exception as e:  # paddle raises assorted errors for a damaged file
        raise CheckpointError(f"could not read checkpoint {path} (damaged or not a Paddle file): "
                              f"{type(e).__name__}: {one_line(e, 200)}") from None


def check_state_fits(model: nn.Layer, state: dict, what: str = "checkpoint") -> None:
    """Raise ``CheckpointError`` naming missing, unexpected and mis-shaped parameters."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and not k.startswith("__")]
    shapes = [f"{k} {list(np.shape(state[k]))} vs model {list(own[k].shape)}" for k in own
              if k in state and list(np.shape(state[k])) != list(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append(f"{len(shapes)} shape mismatch(es): " + "; ".join(shapes[:4]))
        if missing:
            parts.append(f"{len(missing)} missing: " + ", ".join(missing[:4]))
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected: " + ", ".join(unexpected[:4]))
        raise CheckpointError(f"{what} does not fit the model ({'; '.join(parts)}). "
                              f"Was it saved for another architecture or class count?")


def load_weights(model: nn.Layer, path: str) -> None:
    """Load a ``.pdparams`` (or the ``model`` entry of a training checkpoint) into ``model``, checked."""
    state = load_file(path)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    check_state_fits(model, state, what=f"checkpoint {path}")
    model.set_state_dict(state)


def write_json(obj, path: str) -> None:
    """JSON file written atomically."""
    atomic_write_text(json.dumps(obj, indent=2), path)


def optimizer_state_to_portable(opt_state: dict, network: nn.Layer) -> dict:
    """Key the optimizer's accumulators by structured parameter names (``features.0.conv.weight``).

    Paddle names accumulators after the global unique parameter name (``conv2d_106.w_0_velocity_0``),
    which changes whenever the same net is built in another order or process; this makes the
    checkpoint loadable into any fresh build of the same architecture.
    """
    names = {p.name: s for s, p in network.named_parameters()}
    out = {}
    for key, value in opt_state.items():
        if key == "master_weights" and isinstance(value, dict):
            out[key] = {f"param::{names.get(k, k)}": v for k, v in value.items()}
            continue
        match = max((n for n in names if key.startswith(n + "_")), key=len, default=None)
        out[f"param::{names[match]}::{key[len(match):]}" if match else key] = value
    return out


def optimizer_state_from_portable(state: dict, network: nn.Layer) -> dict:
    """Inverse of ``optimizer_state_to_portable`` for the parameters of ``network``."""
    names = {s: p.name for s, p in network.named_parameters()}
    out = {}
    for key, value in state.items():
        if key == "master_weights" and isinstance(value, dict):
            out[key] = {names.get(k[len("param::"):], k): v for k, v in value.items()}
        elif key.startswith("param::"):
            structured, suffix = key[len("param::"):].split("::", 1)
            if structured not in names:
                raise CheckpointError(f"the optimizer state names parameter '{structured}', which the model lacks")
            out[names[structured] + suffix] = value
        else:
            out[key] = value
    return out
