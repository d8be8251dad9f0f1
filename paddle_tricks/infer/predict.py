"""Batched top-k predictions over image files, and their CSV or JSON file."""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..utils.messages import one_line
from ..utils.paths import write_whole
from .classifier import Classifier

__all__ = ["Prediction", "classify_images", "write_predictions", "OUTPUT_FORMATS"]

OUTPUT_FORMATS = (".csv", ".json")


@dataclass
class Prediction:
    """The ``k`` most probable classes of one image, most probable first."""

    path: str
    labels: list[int]
    classes: list[str]
    probabilities: list[float]


def classify_images(classifier: Classifier, paths: list[str], batch_size: int = 32, top_k: int = 5,
                    progress: bool = True) -> tuple[list[Prediction], list[tuple[str, str]]]:
    """Top-``k`` predictions for ``paths``, in order; unreadable images are returned as ``(path, reason)``."""
    from tqdm import tqdm
    k = min(top_k, len(classifier.classes))
    predictions: list[Prediction] = []
    skipped: list[tuple[str, str]] = []
    bar = tqdm(total=len(paths), unit="img", file=sys.stderr, disable=None if progress else True, leave=False)
    for start in range(0, len(paths), batch_size):
        batch, names = [], []
        for path in paths[start:start + batch_size]:
            try:
                batch.append(classifier.preprocess(path))
                names.append(path)
            except Exception as e:  # noqa: BLE001 - a corrupt or odd image must not stop the others
                skipped.append((path, f"{type(e).__name__}: {one_line(e, 120)}"))
        if batch:
            try:
                probs = classifier.probabilities(np.stack(batch))
            except ValueError:
                shapes = sorted({tuple(b.shape) for b in batch})
                raise UserError(f"the preprocessed images differ in shape ({', '.join(map(str, shapes[:3]))}): "
                                f"the run's eval transforms do not resize; use --batch-size 1") from None
            order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
            for name, row, p in zip(names, order, probs):
                predictions.append(Prediction(name, [int(i) for i in row], [classifier.classes[i] for i in row],
                                              [float(p[i]) for i in row]))
        bar.update(len(paths[start:start + batch_size]))
    bar.close()
    return predictions, skipped


def _csv(predictions: list[Prediction]) -> str:
    k = max((len(p.labels) for p in predictions), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path"] + [f"{what}{i}" for i in range(1, k + 1) for what in ("class", "label", "prob")])
    for p in predictions:
        writer.writerow([p.path] + [v for c, i, q in zip(p.classes, p.labels, p.probabilities)
                                    for v in (c, i, f"{q:.6f}")])
    return buf.getvalue()


def _json(predictions: list[Prediction]) -> str:
    return json.dumps([{"path": p.path, "top": [{"class": c, "label": i, "prob": q} for c, i, q in
                                                 zip(p.classes, p.labels, p.probabilities)]}
                       for p in predictions], indent=1)


def write_predictions(predictions: list[Prediction], path: str) -> None:
    """Write ``path`` (``.csv`` or ``.json``, chosen by its suffix) atomically."""
    write_whole(_json(predictions) if path.lower().endswith(".json") else _csv(predictions), path)
