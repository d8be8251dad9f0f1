"""Convert a saved Paddle program to ONNX with ``paddle2onnx``.

``paddle2onnx.export`` logs a failure and carries on (its return value is then undefined), prints progress
from C++, and by default folds constants with Polygraphy, which may try to ``pip install`` a package at run
time. Here the conversion runs without that step (ONNX Runtime folds constants itself when it loads the
model), its output is captured, and a failure becomes one ``ExportError`` with the converter's last message.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from ..errors import ExportError
from ..infer.backends import require_onnx
from ..utils.messages import one_line

__all__ = ["paddle_to_onnx", "OPSET"]

OPSET = 13


@contextlib.contextmanager
def _captured_output():
    """Redirect the process's stdout/stderr (Python and C++) into a temporary file, yielded as its path."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _last_error(log) -> str:
    log.seek(0)
    lines = [ln.strip() for ln in log.read().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    return one_line((errors or lines or ["no message"])[-1], 300)


def paddle_to_onnx(prefix: str, onnx_path: str, opset: int = OPSET) -> None:
    """Write ``onnx_path`` from the program saved by ``paddle.jit.save`` at ``prefix``.

    Raises:
        paddle_tricks.export.ExportError: ``paddle2onnx`` could not convert the program.
        UserError: ``paddle2onnx`` or ``onnxruntime`` is not installed.
    """
    require_onnx()
    import logging

    import paddle2onnx
    model_file = prefix + ".json" if os.path.isfile(prefix + ".json") else prefix + ".pdmodel"
    logging.disable(logging.INFO)  # paddle2onnx logs every step at INFO level through the root logger
    try:
        with _captured_output() as log:
            try:
                model = paddle2onnx.export(model_file, prefix + ".pdiparams", save_file=None, opset_version=opset,
                                           enable_onnx_checker=True)
            except Exception:  # noqa: BLE001 - a failed conversion surfaces as a NameError inside paddle2onnx
                model = None
            reason = None if isinstance(model, bytes) and model else _last_error(log)
    finally:
        logging.disable(logging.NOTSET)
    if reason is not None:
        raise ExportError(f"paddle2onnx could not convert the network to ONNX: {reason}. "
                          f"Export with --format paddle instead")
    with open(onnx_path, "wb") as f:
        f.write(model)
