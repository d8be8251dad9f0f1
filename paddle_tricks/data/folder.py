"""Data.dataset=folder: an ImageNet-style folder ``root/{train,eval}/<class>/<image>``."""
from __future__ import annotations

import os

from ..errors import ConfigError, DataError
from .image_list import ImageListDataset, list_image_files, warn_user
from .registry import register_dataset

__all__ = ["folder_dataset"]


def folder_dataset(root: str, mode: str, transform, classes: list[str] | None = None):
    """An ImageNet-style folder: ``root/{train,eval}/<class>/<image>``.

    Hidden files (``.DS_Store``) and sub-folders of a class folder are ignored; every other file is checked
    by ``ImageListDataset``. The eval split takes the train split's ``classes`` so labels agree: an eval
    class that training lacks is an error, a missing one a warning.
    """
    split = os.path.join(root, mode)
    if not os.path.isdir(split):
        raise DataError(f"dataset folder {split} not found: Data.dataset=folder expects {root}/train/<class>/ "
                        f"and {root}/eval/<class>/")
    found = sorted(d for d in os.listdir(split) if os.path.isdir(os.path.join(split, d)) and not d.startswith("."))
    if classes is None:
        classes = found
    else:
        extra = [c for c in found if c not in classes]
        if extra:
            raise DataError(f"{split} has class folder(s) the train split lacks: {', '.join(extra[:5])}")
        absent = [c for c in classes if c not in found]
        if absent:
            warn_user(f"{len(absent)} class folder(s) missing in {split}: {', '.join(absent[:5])}")
    samples = []
    empty = []
    for i, c in enumerate(classes):
        folder = os.path.join(split, c)
        files = list_image_files(folder) if os.path.isdir(folder) else []
        if os.path.isdir(folder) and not files:
            empty.append(c)
        samples += [(os.path.join(folder, f), i) for f in files]
    if empty:
        warn_user(f"{len(empty)} empty class folder(s) in {split}: {', '.join(empty)}")
    if not samples:
        raise DataError(f"no image found under {split}")
    return ImageListDataset(samples, classes, transform, split=mode)


@register_dataset("folder")
def build_folder(root, options: dict, train_transform, eval_transform, seed: int):
    """The ``train`` and ``eval`` splits of the folder ``root``; the eval split takes the train classes."""
    if not root:
        raise ConfigError("Data.root must be set for Data.dataset=folder")
    train = folder_dataset(root, "train", train_transform)
    return train, folder_dataset(root, "eval", eval_transform, classes=train.classes)
