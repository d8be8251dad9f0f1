"""State files that hold no code: tensors in ``safetensors``, everything else as JSON in its header.

``write_state`` takes a nested state (dicts, lists, numbers, strings, tensors and arrays, as a training
checkpoint or a ``state_dict`` is) and writes every tensor under its path (``model/fc.weight``; a flat weights
dict keeps its parameter names) and the rest, with each tensor replaced by ``{"__tensor__": name}``, as JSON
in the safetensors ``__metadata__``. ``read_state`` gives the state back with numpy arrays, and reads pickled
files of other origins through ``safe_pickle``, which refuses any code they ask to run.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import paddle
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from .safe_pickle import safe_load

__all__ = ["FORMAT", "write_state", "read_state", "is_safetensors"]

FORMAT = "paddle_tricks.state/1"
_TENSOR = "__tensor__"


def _split(obj, path: str, tensors: dict):
    """The JSON skeleton of ``obj``; its tensors and arrays go into ``tensors``."""
    if isinstance(obj, paddle.Tensor):
        obj = obj.numpy()
    if isinstance(obj, (np.ndarray, np.generic)):
        tensors[path] = np.ascontiguousarray(obj)
        return {_TENSOR: path}
    if isinstance(obj, dict):
        return {str(k): _split(v, f"{path}/{k}" if path else str(k), tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{path}/{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} at '{path}' in a state file")


def _join(skeleton, tensors: dict):
    if isinstance(skeleton, dict):
        if set(skeleton) == {_TENSOR}:
            return tensors[skeleton[_TENSOR]]
        return {k: _join(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [_join(v, tensors) for v in skeleton]
    return skeleton


def write_state(state, path: str) -> None:
    """Write ``state`` to ``path`` as safetensors plus a JSON skeleton (not atomic: see ``utils.atomic``)."""
    tensors: dict = {}
    skeleton = _split(state, "", tensors)
    save_file(tensors, path, metadata={"format": FORMAT, "state": json.dumps(skeleton)})


def is_safetensors(path: str) -> bool:
    """True when ``path`` starts like a safetensors file (an 8-byte header length, then a JSON object)."""
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] > 1


def read_state(path: str):
    """The state in ``path`` with numpy arrays: a file of this suite, any safetensors file (a flat dict) or a
    pickle of arrays and plain containers (``.pdparams``). Raises ``safe_pickle.UnsafePickle`` for a pickle
    that asks to run code, and ``ValueError``/``OSError``-like errors for a damaged file."""
    if not is_safetensors(path):
        return safe_load(path)
    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        return tensors
    return _join(json.loads(meta["state"]), tensors)
