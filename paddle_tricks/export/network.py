"""Export a trained network for deployment: reparameterise, trace, save, run the saved model, compare.

``export_network(net, out_dir)`` turns ``net`` into its deploy form with
:func:`paddle_tricks.deploy.reparameterize` (ACBlocks fused into one conv each, BatchNorms folded into their
convs), traces it with ``paddle.jit.to_static`` and saves it with ``paddle.jit.save``; with ``fmt="onnx"``
the saved program is converted by ``paddle2onnx``. The saved model is then run in its deploy runtime
(``paddle.inference`` or ONNX Runtime) on ``samples`` (real images when the caller has them, random ones
otherwise) and must give the dygraph eval-mode output of the *unfused* net (max abs difference ≤ ``atol``,
relative to the largest output when that exceeds 1).
"""
from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass

import numpy as np
import paddle
import paddle.nn as nn

from ..errors import ExportError
from ..infer.backends import OnnxBackend, PaddleInferenceBackend
from ..utils.messages import one_line

__all__ = ["ExportError", "ExportResult", "export_network", "FORMATS"]

FORMATS = ("paddle", "onnx")


@dataclass
class ExportResult:
    """Where the model went and how close the saved model, run in its runtime, is to the dygraph net."""

    path_prefix: str
    files: list[str]
    max_abs_diff: float
    params_train: int   # learnable parameters before / after reparameterisation
    params_deploy: int
    output_scale: float = 1.0
    format: str = "paddle"
    runtime: str = "paddle.inference"


def _num_params(net: nn.Layer) -> int:
    """Learnable parameters (Paddle also lists BN running statistics as parameters: not counted)."""
    return int(sum(int(np.prod(p.shape)) for p in net.parameters() if not p.stop_gradient))


def _save_program(net: nn.Layer, prefix: str, spec) -> None:
    try:
        static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
        paddle.jit.save(static, prefix, input_spec=spec)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        raise ExportError(f"paddle.jit could not export {type(net).__name__}: {one_line(e, 300)}") from None
    except Exception as e:  # noqa: BLE001 - tracing errors come in many types
        raise ExportError(f"paddle.jit could not export {type(net).__name__}: {type(e).__name__}: "
                          f"{one_line(e, 300)}") from None


def export_network(net: nn.Layer, out_dir: str, input_size: int = 224, in_channels: int = 3,
                   name: str = "model", atol: float = 1e-4, fuse: bool = True, seed: int = 0,
                   samples: np.ndarray | None = None, fmt: str = "paddle") -> ExportResult:
    """Reparameterise ``net`` (in place), save it in ``fmt`` and check the saved model in its runtime.

    Args:
        net: the trained network (train form); it is left in eval mode, in its deploy form if ``fuse``.
        out_dir: output folder (created).
        input_size: height and width of the exported input (the batch size stays dynamic); ignored when
            ``samples`` are given (their size is used).
        in_channels: image channels; ignored when ``samples`` are given.
        name: file prefix inside ``out_dir``.
        atol: largest allowed difference between the saved model and the dygraph net, absolute for
            outputs up to 1 in magnitude and relative to ``max|output|`` beyond (float32 rounding grows with
            the output; an untrained multi-branch net in eval mode can have logits in the thousands).
        fuse: reparameterise before export (``False`` exports the train form, e.g. for benchmarks).
        seed: seed of the random check input (used without ``samples``).
        samples: float32 ``NCHW`` inputs to check on, e.g. preprocessed eval images.
        fmt: ``"paddle"`` (``<name>.json`` + ``<name>.pdiparams``) or ``"onnx"`` (``<name>.onnx``).

    Returns:
        An :class:`ExportResult`.

    Raises:
        ExportError: the network does not take this input, cannot be traced or converted, or the saved
            model's output differs by more than ``atol``.
    """
    from ..deploy import reparameterize

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format '{fmt}'; choose from {', '.join(FORMATS)}")
    net.eval()
    if samples is None:
        rng = np.random.RandomState(seed)
        samples = rng.standard_normal((2, in_channels, input_size, input_size)).astype("float32")
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    shape = list(samples.shape)
    try:
        with paddle.no_grad():
            reference = net(paddle.to_tensor(samples)).numpy()
    except Exception as e:  # noqa: BLE001 - a layer refusing the input shape raises assorted errors
        raise ExportError(f"the network does not accept inputs of shape [N, {shape[1]}, {shape[2]}, {shape[3]}]: "
                          f"{type(e).__name__}: {one_line(e, 200)}. Check --in-channels and --input-size") from None
    params_train = _num_params(net)
    if fuse:
        reparameterize(net)
    params_deploy = _num_params(net)
    os.makedirs(out_dir, exist_ok=True)
    prefix = os.path.join(out_dir, name)
    spec = [paddle.static.InputSpec([None] + shape[1:], "float32", "image")]
    if fmt == "paddle":
        _save_program(net, prefix, spec)
        backend = PaddleInferenceBackend(prefix)
    else:
        from .onnx_format import paddle_to_onnx
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".program-") as scratch:
            program = os.path.join(scratch, name)
            _save_program(net, program, spec)
            paddle_to_onnx(program, prefix + ".onnx")
        backend = OnnxBackend(prefix + ".onnx")
    out = backend(samples)
    if out.shape != reference.shape:
        raise ExportError(f"the exported model outputs shape {list(out.shape)}, the network {list(reference.shape)}")
    diff = float(np.abs(out - reference).max())
    scale = max(1.0, float(np.abs(reference).max()))
    files = sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.startswith(name + "."))
    if not diff <= atol * scale:
        raise ExportError(f"the exported model differs from the dygraph network: max abs diff {diff:.3g} > "
                          f"{atol:g} x max(1, max|output|={scale:.3g})")
    return ExportResult(prefix, files, diff, params_train, params_deploy, scale, fmt, backend.name)
