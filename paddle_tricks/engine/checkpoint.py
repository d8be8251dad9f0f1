"""Checkpoints and weights, written atomically (``utils.atomic``) and loaded with clear errors.

``load_weights`` checks that a file fits the model and names every mismatched parameter.
"""
from __future__ import annotations

import os

import numpy as np
import paddle
import paddle.nn as nn

from ..errors import CheckpointError
from ..utils.atomic import atomic_write, atomic_write_text, remove_stale_temps, temp_files, write_json
from ..utils.messages import one_line

__all__ = ["atomic_save", "atomic_write_text", "load_file", "load_weights", "check_state_fits",
           "remove_stale_temps", "temp_files", "write_json"]


def atomic_save(obj, path: str, before_replace=None) -> None:
    """``paddle.save(obj, path)`` via a temporary file and a rename.

    Args:
        obj: what to save.
        path: the final file.
        before_replace: called after the temporary file is complete, just before the rename (test hook).
    """
    atomic_write(path, lambda tmp: paddle.save(obj, tmp), before_replace)


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
