"""Checkpoints and weights, written atomically (``utils.atomic``) and loaded with clear errors.

``Checkpointer`` saves and restores everything a run needs to continue (model, optimizer with its LR position,
EMA, AMP loss scale, epoch, best metric, history, config) and the best weights. ``load_weights`` checks that a
file fits the model and names every mismatched parameter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import paddle
import paddle.nn as nn

from ..errors import CheckpointError
from ..utils.atomic import atomic_write, atomic_write_text, remove_stale_temps, temp_files, write_json
from ..utils.messages import one_line
from . import run_files
from .safe_pickle import UnsafePickle
from .state_file import read_state, write_state

__all__ = ["Checkpointer", "Progress", "LEGACY_CHECKPOINT", "atomic_save", "atomic_write_text", "load_file", "load_weights",
           "check_state_fits", "optimizer_state_to_portable", "optimizer_state_from_portable",
           "remove_stale_temps", "temp_files", "write_json"]


def atomic_save(state, path: str) -> None:
    """Write ``state`` (tensors and plain values, see ``state_file``) to ``path`` via a temporary file and a
    rename."""
    atomic_write(path, lambda tmp: write_state(state, tmp))


def load_file(path: str):
    """The state in ``path`` (tensors as numpy arrays), with one clear error for a missing, damaged or unsafe
    file. Pickled files (``.pdparams``, checkpoints of earlier versions) are read without running code."""
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint not found: {os.path.abspath(path)} is a folder; give a weights file "
                              f"(.safetensors or .pdparams) or a checkpoint")
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: looked for {os.path.abspath(path)}")
    try:
        return read_state(path)
    except UnsafePickle as e:
        raise CheckpointError(f"refused to load {path}: {e}; a weights file may only hold arrays, tensors and "
                              f"plain containers (nothing of it was run)") from None
    except Exception as e:  # a damaged file raises assorted errors (pickle, safetensors, json, EOF)
        raise CheckpointError(f"could not read checkpoint {path} (damaged, or not a weights file): "
                              f"{type(e).__name__}: {one_line(e, 200)}") from None


# the table of parameter names that ``paddle.save`` adds to a saved ``state_dict`` (not a weight)
PADDLE_NAME_TABLE = "StructuredToParameterName@@"


def check_state_fits(model: nn.Layer, state: dict, what: str = "checkpoint") -> None:
    """Raise ``CheckpointError`` naming missing, unexpected and mis-shaped parameters."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and not k.startswith("__") and k != PADDLE_NAME_TABLE]
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
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not weights (a mapping of parameter names "
                              f"to tensors)")
    check_state_fits(model, state, what=f"checkpoint {path}")
    model.set_state_dict(state)


def optimizer_state_to_portable(opt_state: dict, network: nn.Layer) -> dict:
    """Key the optimizer's accumulators by structured parameter names (``features.0.conv.weight``).

    Paddle names accumulators after the global unique parameter name (``conv2d_106.w_0_velocity_0``),
    which changes whenever the same net is built in another order or process; this makes the
    checkpoint loadable into any fresh build of the same architecture. Each key is split at its
    underscores from the right and the longest prefix that is a parameter name wins: a few dictionary
    look-ups per key.
    """
    names = {p.name: s for s, p in network.named_parameters()}
    out = {}
    for key, value in opt_state.items():
        if key == "master_weights" and isinstance(value, dict):
            out[key] = {f"param::{names.get(k, k)}": v for k, v in value.items()}
            continue
        prefix = key
        while "_" in prefix:
            prefix = prefix.rsplit("_", 1)[0]
            if prefix in names:
                out[f"param::{names[prefix]}::{key[len(prefix):]}"] = value
                break
        else:
            out[key] = value
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
            if not isinstance(value, (np.ndarray, paddle.Tensor)):
                raise CheckpointError(f"the optimizer state '{key}' is a {type(value).__name__}, not an array")
            out[names[structured] + suffix] = value
        else:
            out[key] = value
    return out


# where versions before the safetensors format kept the checkpoint (a pickle, read by ``safe_pickle``)
LEGACY_CHECKPOINT = run_files.LEGACY_CHECKPOINT


@dataclass
class Progress:
    """Where a run stands: epochs finished, the best evaluated epoch so far, and one record per epoch."""
    epoch: int = 0
    best: dict = field(default_factory=lambda: {"metric": None, "value": -1.0, "epoch": None})
    history: list = field(default_factory=list)


class Checkpointer:
    """The checkpoint and best weights of the run in ``output_dir``.

    Args:
        output_dir: the run folder.
        network, optimizer: what is saved and restored.
        ema: the run's ``ModelEMA`` or ``None``.
        scaler: the AMP ``GradScaler`` or ``None``.
    """

    def __init__(self, output_dir: str, network: nn.Layer, optimizer, ema=None, scaler=None):
        self.out, self.network, self.optimizer, self.ema, self.scaler = output_dir, network, optimizer, ema, scaler

    @property
    def path(self) -> str:
        """The run's latest checkpoint."""
        return os.path.join(self.out, run_files.CHECKPOINT)

    @staticmethod
    def find(output_dir: str) -> str | None:
        """The checkpoint of the run in ``output_dir`` (this version's, else an earlier version's), or None."""
        for name in (run_files.CHECKPOINT, LEGACY_CHECKPOINT):
            path = os.path.join(output_dir, name)
            if os.path.isfile(path):
                return path
        return None

    def save(self, progress: Progress, config: dict) -> None:
        """Write the checkpoint after ``progress.epoch`` finished epochs (atomically)."""
        state = {
            "model": self.network.state_dict(),
            "optimizer": optimizer_state_to_portable(self.optimizer.state_dict(), self.network),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": progress.epoch,
            "best": progress.best,
            "history": progress.history,
            "config": config,
        }
        atomic_save(state, self.path)

    def save_best(self, best: dict, record: dict) -> None:
        """The weights (and EMA weights) of a new best epoch, and ``best.json``."""
        atomic_save(self.network.state_dict(), os.path.join(self.out, run_files.BEST))
        if self.ema is not None:
            atomic_save(self.ema.weights(), os.path.join(self.out, run_files.BEST_EMA))
        write_json({**best, "record": record}, os.path.join(self.out, run_files.BEST_JSON))

    @staticmethod
    def read(path: str) -> dict:
        """The checkpoint at ``path``, checked to be a complete one of this suite (a crafted or cut-down file is
        one ``CheckpointError`` naming what is wrong)."""
        ckpt = load_file(path)
        if not isinstance(ckpt, dict) or "model" not in ckpt:
            raise CheckpointError(f"{path} is not a training checkpoint of this suite (no 'model' entry)")
        kinds = {"model": dict, "optimizer": dict, "epoch": int, "history": list}
        for key, kind in kinds.items():
            value = ckpt.get(key)
            if isinstance(value, np.ndarray) and value.ndim == 0 and kind is int:
                value = ckpt[key] = value.item()
            if not isinstance(value, kind) or isinstance(value, bool):
                what = "no" if key not in ckpt else f"a {type(value).__name__} as its"
                raise CheckpointError(f"{path} is not a complete training checkpoint: it has {what} '{key}' entry")
        if ckpt["epoch"] < 0 or ckpt["epoch"] != len(ckpt["history"]):
            raise CheckpointError(f"{path} is not a consistent training checkpoint: epoch {ckpt['epoch']} with "
                                  f"{len(ckpt['history'])} history record(s)")
        best = ckpt.get("best")
        if best is not None and not (isinstance(best, dict) and isinstance(best.get("value"), (int, float))):
            raise CheckpointError(f"{path} is not a consistent training checkpoint: its 'best' entry is {best!r:.80}")
        return ckpt

    def restore(self, path: str, log=print) -> tuple[Progress, dict | None]:
        """Load model, optimizer (incl. LR position), EMA and AMP scaler from ``path``.

        Returns the run's ``Progress`` and the config saved with the checkpoint (``None`` if it has none).
        Without an EMA state in the checkpoint the EMA restarts from the restored weights (``self.ema`` is
        replaced: read it back from here).
        """
        ckpt = self.read(path)
        check_state_fits(self.network, ckpt["model"], what=f"checkpoint {path}")
        self.network.set_state_dict(ckpt["model"])
        try:
            self.optimizer.set_state_dict(optimizer_state_from_portable(ckpt["optimizer"], self.network))
            if self.ema is not None and ckpt.get("ema"):
                self.ema.set_state_dict(ckpt["ema"])
        except CheckpointError as e:
            raise CheckpointError(f"checkpoint {path}: {e}") from None
        except (KeyError, ValueError, TypeError, AssertionError) as e:
            raise CheckpointError(f"the optimizer or EMA state in {path} does not fit this run "
                                  f"({type(e).__name__}: {one_line(e, 200)})") from None
        if self.ema is not None and not ckpt.get("ema"):
            log("the checkpoint has no EMA state: the EMA restarts from the current weights")
            self.ema = type(self.ema)(self.network, self.ema.decay, self.ema.warmup, interval=self.ema.interval)
        if self.scaler is not None and ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        progress = Progress(ckpt["epoch"], ckpt.get("best") or Progress().best, ckpt["history"])
        return progress, ckpt.get("config")
