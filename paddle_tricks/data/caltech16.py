"""Caltech-16: the 16-class subset of Caltech-101 used for the AsymmNet experiments.

The AsymmNet tutorial trained on an unpublished 16-class Caltech set; this project defines the subset
from Caltech-101 (Fei-Fei, Fergus, Perona, CVPR-W 2004) as the 16 largest object categories after leaving
out ``BACKGROUND_Google`` and the four categories with more than 400 images, ties broken alphabetically.
Within each class the files are sorted by name and every 5th (index % 5 == 0) goes to eval:
1,447 training and 370 evaluation images.
"""
from __future__ import annotations

import os

from ..errors import DataError
from .archive import extract_archive
from .image_list import ImageListDataset, list_image_files
from .registry import register_dataset

__all__ = ["CALTECH16_CLASSES", "caltech16_split", "derive_caltech16_classes", "find_caltech101_root",
           "Caltech16", "CALTECH101_ARCHIVES"]

CALTECH16_CLASSES = [
    "watch", "Leopards", "bonsai", "car_side", "ketch", "chandelier", "hawksbill", "grand_piano",
    "brain", "butterfly", "helicopter", "menorah", "kangaroo", "starfish", "trilobite", "buddha",
]
EXCLUDED = {"BACKGROUND_Google"}
MAX_CLASS_SIZE = 400
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

# The official archives (CaltechDATA record mzrjq-6wc02) and their MD5 sums.
CALTECH101_ARCHIVES = {
    "caltech-101.zip": ("https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
                        "3138e1922a9193bfa496528edbbc45d0"),
}


def _image_files(folder: str) -> list[str]:
    """Image names of a class folder; broken links are kept so the dataset counts them as skipped."""
    return [f for f in list_image_files(folder) if f.lower().endswith(IMAGE_EXTS)]


def _extract(archive: str) -> str:
    """Extract a Caltech-101 archive next to itself (once) and return the folder it made."""
    out = extract_archive(archive, archive + ".extracted")
    # the official zip holds 101_ObjectCategories.tar.gz inside a caltech-101/ folder
    for dirpath, dirnames, filenames in os.walk(out):
        if "101_ObjectCategories" in dirnames:
            return os.path.join(dirpath, "101_ObjectCategories")
        for f in filenames:
            if f == "101_ObjectCategories.tar.gz":
                return find_caltech101_root(os.path.join(dirpath, f))
    return out


def find_caltech101_root(path: str) -> str:
    """The folder that holds the Caltech-101 class folders, given that folder, a parent of
    ``101_ObjectCategories``, or an archive (.zip / .tar.gz), which is extracted beside itself."""
    if not path or not os.path.exists(path):
        where = os.path.abspath(path) if path else "(Data.root is not set)"
        raise DataError(f"Caltech-101 not found at {where}: `paddle-tricks prepare-data caltech16 --source "
                        f"FOLDER_OR_ARCHIVE` puts it there (--download fetches the official archive when online), "
                        f"or point Data.root at the folder of class folders (101_ObjectCategories) or the archive")
    if os.path.isfile(path):
        return find_caltech101_root(_extract(path))
    sub = os.path.join(path, "101_ObjectCategories")
    if os.path.isdir(sub):
        path = sub
    missing = [c for c in CALTECH16_CLASSES if not os.path.isdir(os.path.join(path, c))]
    if missing:
        raise DataError(f"'{path}' is not a Caltech-101 folder: class folder(s) {', '.join(missing[:4])} "
                        f"missing. Point Data.root at the folder that holds the 101 class folders")
    return path


def derive_caltech16_classes(root: str) -> list[str]:
    """Apply the Caltech-16 rule to a Caltech-101 folder (checks ``CALTECH16_CLASSES``)."""
    sizes = {c: len(_image_files(os.path.join(root, c))) for c in os.listdir(root)
             if os.path.isdir(os.path.join(root, c)) and c not in EXCLUDED}
    eligible = [c for c, n in sizes.items() if n <= MAX_CLASS_SIZE]
    eligible.sort(key=lambda c: (-sizes[c], c))
    return eligible[:16]


def caltech16_split(root: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """``(train, eval)`` lists of ``(path, label)``; labels follow ``CALTECH16_CLASSES`` order."""
    root = find_caltech101_root(root)
    train, evals = [], []
    for label, cls in enumerate(CALTECH16_CLASSES):
        folder = os.path.join(root, cls)
        files = _image_files(folder)
        if not files:
            raise DataError(f"class folder {folder} holds no image")
        for i, f in enumerate(files):
            (evals if i % 5 == 0 else train).append((os.path.join(folder, f), label))
    return train, evals


def Caltech16(root: str, mode: str = "train", transform=None, check: bool = True) -> ImageListDataset:
    """The Caltech-16 ``mode`` split ('train' or 'eval') of the Caltech-101 at ``root``."""
    if mode not in ("train", "eval"):
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    train, evals = caltech16_split(root)
    return ImageListDataset(train if mode == "train" else evals, CALTECH16_CLASSES, transform, check=check)


@register_dataset("caltech16")
def build_caltech16(root, options: dict, train_transform, eval_transform, seed: int):
    """Caltech-16 from the Caltech-101 at ``root`` (a folder or the official archive); no options."""
    return Caltech16(root, "train", train_transform), Caltech16(root, "eval", eval_transform)
