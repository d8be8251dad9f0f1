"""Checks run before anything trains: the output folder is writable, and data and network fit together."""
from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import paddle
import paddle.nn as nn

from ..errors import ConfigError, UserError
from ..utils.messages import one_line

__all__ = ["check_output_dir", "preflight"]


def check_output_dir(path: str) -> None:
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
