"""Evaluation through the exported predictor: ``paddle.jit.save`` then ``paddle.inference``, on the CPU.

Paddle Inference runs the saved program with its graph fusions (convolution + batch norm, oneDNN kernels),
several times faster than a dygraph pass on a CPU. The weights change every epoch, so each evaluation exports
the network again (a copy, in eval mode: the training network is left as it is); that time is counted in the
measurement that made this the CPU default (``Global.eval_backend``, docs/results/performance.md). The
metrics are the trainer's own (``Accuracy``, ``MeanCrossEntropy``) computed on the predictor's logits, so the
record has the same keys and meaning as a dygraph evaluation (equal to it up to float rounding: a test).

Exporting has a fixed cost (tracing and the predictor's graph passes: 5-10 s here), so ``EvalBackend``
decides with the clock under ``Global.eval_backend: auto``: an evaluation that took longer than
``EvalBackend.TRY_AFTER_SECONDS`` in dygraph makes the next one try the predictor, kept only if faster.
"""
from __future__ import annotations

import copy
import os
import tempfile

import numpy as np
import paddle

from ..infer.backends import PaddleInferenceBackend
from ..utils.cpu_threads import set_paddle_threads, wanted_threads
from .metrics import MeanCrossEntropy

__all__ = ["EvalBackend", "export_for_eval", "evaluate_exported"]


def export_for_eval(network: paddle.nn.Layer, image_shape: list[int], folder: str,
                    threads: int | None = None) -> PaddleInferenceBackend:
    """A ``paddle.inference`` predictor of ``network``'s current weights (in eval mode), saved in ``folder``,
    for batches of images of ``image_shape`` (channels, height, width)."""
    frozen = copy.deepcopy(network)
    frozen.eval()
    spec = [paddle.static.InputSpec([None, *image_shape], "float32", name="images")]
    prefix = os.path.join(folder, "model")
    paddle.jit.save(paddle.jit.to_static(frozen, input_spec=spec, full_graph=True), prefix, input_spec=spec)
    # the predictor sets the process's math threads: keep the count the training runs with
    return PaddleInferenceBackend(prefix, threads=threads or wanted_threads())


def evaluate_exported(network: paddle.nn.Layer, loader, num_classes: int, on_batch=None) -> dict:
    """hapi-style logs (``acc_top1``, ``acc_top<k>``, ``ce``) of ``network`` over ``loader``, run by the
    exported predictor; ``on_batch(step)`` is called after each batch (a progress bar)."""
    metrics = [paddle.metric.Accuracy(topk=(1, min(5, num_classes))), MeanCrossEntropy()]
    batches = iter(loader)
    first = next(batches, None)
    if first is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="paddle_tricks-eval-") as folder:
        predict = export_for_eval(network, list(first[0].shape[1:]), folder)
        try:
            for step, (images, labels) in enumerate(_chain(first, batches)):
                logits = paddle.to_tensor(predict(np.asarray(images.numpy(), dtype=np.float32)))
                labels = labels.reshape([-1, 1])
                for metric in metrics:
                    metric.update(*[np.asarray(v) for v in _as_list(metric.compute(logits, labels))])
                if on_batch is not None:
                    on_batch(step)
        finally:
            # running the predictor leaves the process's math threads set its own way, and the next dygraph
            # steps would then sum in another order (a 1e-6 difference that grows over an epoch): set them back
            set_paddle_threads(paddle, wanted_threads())
    logs = {}
    for metric in metrics:
        names, values = _as_list(metric.name()), _as_list(metric.accumulate())
        logs.update(zip(names, values))
    return logs


def _chain(first, rest):
    yield first
    yield from rest


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class EvalBackend:
    """Which way the next evaluation runs: ``exported`` (the predictor) or dygraph.

    Args:
        setting: ``Global.eval_backend``: ``dygraph``, ``inference`` (always the predictor) or ``auto``.
        device: the training device; ``auto`` considers the (CPU) predictor only on a CPU.
        world_size: processes training together; with several, hapi gathers their results in dygraph.
    """

    TRY_AFTER_SECONDS = 5.0

    def __init__(self, setting: str, device: str, world_size: int = 1):
        usable = world_size == 1 and setting != "dygraph" and (setting == "inference" or device == "cpu")
        self.auto = usable and setting == "auto"
        self.exported = usable and not self.auto
        self.seconds: dict[bool, float] = {}

    def timed(self, exported: bool, seconds: float) -> str | None:
        """Note how long an evaluation took; under ``auto`` pick the next backend from it. Returns a one-line
        note when the choice is made."""
        self.seconds.setdefault(exported, seconds)
        if not self.auto:
            return None
        if True in self.seconds:                       # tried: keep the faster for the rest of the run
            self.exported, self.auto = self.seconds[True] < self.seconds.get(False, float("inf")), False
            return (f"evaluation: {self.seconds[True]:.1f} s through the exported predictor (export included), "
                    f"{self.seconds[False]:.1f} s in dygraph: {'the predictor' if self.exported else 'dygraph'} "
                    f"evaluates from now on (Global.eval_backend)")
        if seconds > self.TRY_AFTER_SECONDS:
            self.exported = True
        return None

    def failed(self) -> None:
        """The export failed: dygraph from now on."""
        self.exported = self.auto = False
