"""The three ways to run a classifier on a batch: dygraph, ``paddle.inference`` and ONNX Runtime.

Each backend is a callable ``backend(images) -> logits`` on float32 NCHW ``numpy`` arrays, so export checks,
``paddle-tricks infer`` and ``benchmarks/bench_deploy.py`` run every format through the same code.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import UserError
from ..utils.messages import one_line

__all__ = ["DygraphBackend", "PaddleInferenceBackend", "OnnxBackend", "ONNX_INSTALL_HINT", "require_onnx"]

ONNX_INSTALL_HINT = "pip install 'paddle_tricks[onnx]' (paddle2onnx and onnxruntime)"


def require_onnx(what: str = "the ONNX format") -> None:
    """Raise ``UserError`` with the install line when ``paddle2onnx`` or ``onnxruntime`` is missing."""
    import importlib.util
    missing = [m for m in ("paddle2onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(f"{what} needs {' and '.join(missing)}: {ONNX_INSTALL_HINT}")


def _threads(threads: int | None) -> int:
    return threads or os.cpu_count() or 1


class DygraphBackend:
    """A ``paddle.nn.Layer`` in eval mode, run without gradients."""

    name = "dygraph"

    def __init__(self, network):
        self.network = network
        network.eval()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        import paddle
        with paddle.no_grad():
            out = self.network(paddle.to_tensor(images))
        return (out[0] if isinstance(out, (list, tuple)) else out).numpy()


class PaddleInferenceBackend:
    """A program saved by ``paddle.jit.save`` (``<prefix>.json`` + ``.pdiparams``) in a ``paddle.inference``
    predictor on the CPU."""

    name = "paddle.inference"

    def __init__(self, prefix: str, threads: int | None = None):
        import paddle.inference as pi
        model_file = prefix + ".json" if os.path.isfile(prefix + ".json") else prefix + ".pdmodel"
        if not (os.path.isfile(model_file) and os.path.isfile(prefix + ".pdiparams")):
            raise UserError(f"no exported Paddle model at {os.path.abspath(prefix)}.{{json,pdiparams}}: "
                            f"run `paddle-tricks export` first")
        config = pi.Config(model_file, prefix + ".pdiparams")
        config.disable_gpu()
        config.disable_glog_info()
        config.set_cpu_math_library_num_threads(_threads(threads))
        try:
            self.predictor = pi.create_predictor(config)
        except Exception as e:  # noqa: BLE001 - the inference library raises assorted errors for a bad file
            raise UserError(f"paddle.inference cannot load {os.path.abspath(model_file)}: {type(e).__name__}: "
                            f"{one_line(e, 200)}; export the model again") from None
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.input.reshape(list(images.shape))
        self.input.copy_from_cpu(np.ascontiguousarray(images, dtype=np.float32))
        self.predictor.run()
        return self.output.copy_to_cpu()


class OnnxBackend:
    """An ``.onnx`` file in an ONNX Runtime CPU session."""

    name = "onnxruntime"

    def __init__(self, path: str, threads: int | None = None):
        require_onnx("running an ONNX model")
        import onnxruntime as ort
        if not os.path.isfile(path):
            raise UserError(f"no ONNX model at {os.path.abspath(path)}: run `paddle-tricks export --format onnx` "
                            f"first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types for a bad file
            raise UserError(f"ONNX Runtime cannot load {os.path.abspath(path)}: {type(e).__name__}: "
                            f"{one_line(e, 200)}; export the model again") from None
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(images, dtype=np.float32)})[0]
