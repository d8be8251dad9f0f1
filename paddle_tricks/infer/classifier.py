"""A trained classifier ready for new images: a backend, the class names and the run's eval preprocessing.

``open_classifier(path)`` accepts a run folder (its best or EMA weights, run in dygraph) or an export folder
of ``paddle-tricks export`` (``paddle.inference`` or ONNX Runtime, as ``deploy.json`` says). Each image is
decoded like the training data (8-bit RGB, or grayscale for Fashion-MNIST), resized to the model's input
size when the eval transforms do not resize it themselves, then put through the eval transforms.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..data.image_list import load_rgb
from ..data.transforms import build_transforms
from ..errors import UserError
from .backends import DygraphBackend, OnnxBackend, PaddleInferenceBackend
from .run_folder import image_mode, is_run_folder, load_run_config, native_size, run_classes, run_weights

__all__ = ["Classifier", "classifier_from_run", "classifier_from_export", "open_classifier", "softmax"]

_SIZING = ("Resize", "Crop")   # transforms that set the output size themselves


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Classifier:
    """``probabilities(batch)`` of preprocessed images; ``preprocess(path)`` gives one such image."""

    backend: Callable[[np.ndarray], np.ndarray]
    classes: list[str]
    transforms: list
    mode: str = "RGB"
    input_size: int | None = None
    source: str = ""
    _transform: Callable = field(init=False, repr=False)

    def __post_init__(self):
        self._transform = build_transforms(self.transforms, "eval transforms")
        names = [t if isinstance(t, str) else next(iter(t)) for t in self.transforms]
        self._resize = self.input_size is not None and not any(s in n for n in names for s in _SIZING)

    def preprocess(self, path: str) -> np.ndarray:
        """The network input for the image at ``path`` (raises ``OSError``/``ValueError`` if unreadable)."""
        img = load_rgb(path)
        if self.mode != "RGB":
            img = img.convert(self.mode)
        if self._resize and img.size != (self.input_size, self.input_size):
            img = img.resize((self.input_size, self.input_size))
        return np.asarray(self._transform(img), dtype=np.float32)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``[N, num_classes]``."""
        return softmax(np.asarray(self.backend(batch), dtype=np.float64))


def classifier_from_run(cfg: dict, ema: bool = False, weights: str | None = None) -> Classifier:
    """The network of the run of ``cfg`` with its best (or EMA, or given) weights, in dygraph."""
    from ..engine.checkpoint import load_weights
    from ..models import build_network
    weights = weights or run_weights(cfg, ema)
    net = build_network(cfg)
    load_weights(net, weights)
    return Classifier(DygraphBackend(net), run_classes(cfg), cfg["Data"]["eval_transforms"], image_mode(cfg),
                      native_size(cfg), os.path.abspath(weights))


def classifier_from_export(folder: str, threads: int | None = None) -> Classifier:
    """The model of an export folder, in the runtime of its format."""
    from ..export.folder import read_deploy_info
    info = read_deploy_info(folder)
    model = os.path.join(folder, info["model"])
    if info["format"] == "onnx":
        backend = OnnxBackend(model, threads)
    else:
        backend = PaddleInferenceBackend(os.path.splitext(model)[0], threads)
    return Classifier(backend, [str(c) for c in info["classes"]], info["transforms"], info["image_mode"],
                      info.get("input_size"), os.path.abspath(model))


def open_classifier(path: str, ema: bool = False, threads: int | None = None) -> Classifier:
    """A run folder, an export folder or a file inside an export folder, as a :class:`Classifier`.

    ``threads``: CPU threads of an exported model's runtime (default: every core)."""
    if os.path.isfile(path):
        path = os.path.dirname(os.path.abspath(path))
    if is_run_folder(path):
        return classifier_from_run(load_run_config(path), ema)
    if os.path.isdir(path):
        if ema:
            raise UserError("--ema applies to a run folder; an export holds the weights it was exported with")
        return classifier_from_export(path, threads)
    raise UserError(f"model not found: {path}; give a run folder (Global.output_dir of a training run) or the "
                    f"folder written by `paddle-tricks export`")
