"""Fashion-MNIST read straight from its four original IDX gzip files.

Dataset: Xiao H., Rasul K., Vollgraf R., "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine
Learning Algorithms", arXiv 1708.07747, 2017 (``zalandoresearch/fashion-mnist``).

The folder ``root`` holds ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (the names every common loader uses).
The IDX format is big-endian: image files start with magic 2051, count, rows, columns, then uint8 pixels;
label files with magic 2049, count, then uint8 labels. Both are checked before use.
"""
from __future__ import annotations

import gzip
import os
from typing import Callable

import numpy as np
import paddle

from ..errors import DataError
from .registry import register_dataset

__all__ = ["FashionMNIST", "FASHION_MNIST_CLASSES", "FASHION_MNIST_FILES", "read_idx"]

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot"]
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049

_HOW_TO_GET = (
    "get the four files from https://github.com/zalandoresearch/fashion-mnist (folder data/fashion), "
    "or pass download=True (or run paddle.vision.datasets.FashionMNIST(mode='train') and "
    "paddle.vision.datasets.FashionMNIST(mode='test') once while online) and use the folder "
    "~/.cache/paddle/dataset/fashion-mnist")


def read_idx(path: str, expected_magic: int) -> np.ndarray:
    """Decode one gzip IDX file into a uint8 array: ``(N, rows, cols)`` for images, ``(N,)`` for labels.

    Raises:
        DataError: the file is not gzip, has the wrong magic number, or is truncated.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable gzip file ({e}); {_HOW_TO_GET}") from None
    ndim = 3 if expected_magic == _IMAGE_MAGIC else 1
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataError(f"{path} is too short to be an IDX file")
    magic, *dims = (int(v) for v in np.frombuffer(raw[:header], dtype=">i4"))
    if magic != expected_magic:
        raise DataError(f"{path} has IDX magic number {magic}, expected {expected_magic} "
                        f"({'images' if expected_magic == _IMAGE_MAGIC else 'labels'} file)")
    size = int(np.prod(dims))
    if len(raw) - header != size:
        raise DataError(f"{path} holds {len(raw) - header} data bytes, its header announces {size} "
                        f"(shape {dims}); the file is damaged")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _download(filename: str) -> str:
    from paddle.dataset.common import download
    from paddle.vision.datasets import FashionMNIST as _Ref
    key = ("TRAIN" if filename.startswith("train") else "TEST") + ("_IMAGE" if "images" in filename else "_LABEL")
    return download(getattr(_Ref, key + "_URL"), _Ref.NAME, getattr(_Ref, key + "_MD5"))


class FashionMNIST(paddle.io.Dataset):
    """Fashion-MNIST split from the original IDX gzip files.

    Args:
        root: folder holding the four ``*-ubyte.gz`` files.
        mode: ``'train'`` (60,000 images) or ``'test'`` (10,000 images).
        transform: applied to each image; it receives a PIL ``'L'`` image (``paddle.vision`` transforms
            resize PIL images without OpenCV) unless ``backend='numpy'``.
        backend: ``'numpy'`` (HWC uint8 array of shape ``(28, 28, 1)``) or ``'pil'``; ``None`` = ``'pil'``
            when a transform is given, ``'numpy'`` otherwise.
        download: when a file is missing, download it with Paddle's downloader into
            ``~/.cache/paddle/dataset/fashion-mnist`` (needs network access) instead of failing.

    Returns per item ``(image, label)`` with an int64 label. ``images`` ``(N, 28, 28)`` and ``labels``
    ``(N,)`` hold the whole split as uint8 arrays; ``classes`` lists the class names.

    Raises:
        DataError: missing folder or file (the message names it and says how to get it), or a bad file.
    """

    classes = FASHION_MNIST_CLASSES

    def __init__(self, root: str, mode: str = "train", transform: Callable | None = None,
                 backend: str | None = None, download: bool = False):
        super().__init__()
        if mode not in FASHION_MNIST_FILES:
            raise ValueError(f"FashionMNIST: mode must be 'train' or 'test', got '{mode}'")
        if backend not in (None, "numpy", "pil"):
            raise ValueError(f"FashionMNIST: backend must be 'numpy', 'pil' or None, got '{backend}'")
        self.root = str(root)
        self.mode = mode
        self.transform = transform
        self.backend = backend or ("pil" if transform is not None else "numpy")
        paths = []
        for name in FASHION_MNIST_FILES[mode]:
            path = os.path.join(self.root, name)
            if not os.path.isfile(path):
                if download:
                    path = _download(name)
                elif not os.path.isdir(self.root):
                    raise DataError(f"Fashion-MNIST folder '{self.root}' not found; {_HOW_TO_GET}")
                else:
                    raise DataError(f"Fashion-MNIST file '{name}' is missing from '{self.root}'; {_HOW_TO_GET}")
            paths.append(path)
        self.images = read_idx(paths[0], _IMAGE_MAGIC)
        self.labels = read_idx(paths[1], _LABEL_MAGIC)
        if len(self.images) != len(self.labels):
            raise DataError(f"{paths[0]} has {len(self.images)} images but {paths[1]} has "
                            f"{len(self.labels)} labels")
        bad = np.flatnonzero(self.labels >= len(FASHION_MNIST_CLASSES))
        if bad.size:
            raise DataError(f"{paths[1]} holds {bad.size} label(s) outside 0-{len(FASHION_MNIST_CLASSES) - 1} "
                            f"(first: {int(self.labels[bad[0]])} at index {int(bad[0])}); the file is damaged")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int):
        img = self.images[idx]
        if self.backend == "pil":
            from PIL import Image
            img = Image.fromarray(img, mode="L")
        else:
            img = img[:, :, None].copy()
        if self.transform is not None:
            img = self.transform(img)
        return img, np.array(self.labels[idx], dtype=np.int64)


@register_dataset("fashion_mnist")
def build_fashion_mnist(root, options: dict, train_transform, eval_transform, seed: int):
    """The Fashion-MNIST train and test splits from the folder ``root``; no options."""
    if not root or not os.path.isdir(root):
        where = os.path.abspath(root) if root else "(Data.root is not set)"
        raise DataError(f"Fashion-MNIST not found at {where}: put the four *-ubyte.gz files there with "
                        f"`paddle-tricks prepare-data fashion_mnist --source FOLDER` (or --download when online), "
                        f"or set Data.root to the folder holding them")
    return FashionMNIST(root, "train", train_transform), FashionMNIST(root, "test", eval_transform)
