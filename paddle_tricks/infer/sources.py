"""The images to classify, from what the user names: a file, a folder, a glob pattern or a list file.

A folder is searched recursively for image files (hidden files skipped); a glob may use ``**``; a list file
(``.txt``, ``.lst``, ``.list``) names one image per line, relative to the list file's folder, with blank lines
and ``#`` comments ignored and anything after the first whitespace (a label) dropped when the whole line is
not a file. The result keeps the order given, each folder and glob sorted, without duplicates.
"""
from __future__ import annotations

import glob
import os

from ..data.caltech16 import IMAGE_EXTS
from ..errors import UserError

__all__ = ["collect_images", "LIST_EXTS"]

LIST_EXTS = (".txt", ".lst", ".list")


def _is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTS) and not os.path.basename(path).startswith(".")


def _folder_images(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if _is_image(f)]
    return found


def _list_file_images(path: str) -> list[str]:
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read the list file {path}: {e}") from None
    images = []
    for n, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        candidate = os.path.join(base, line)
        if not os.path.isfile(candidate) and len(line.split()) > 1:
            candidate = os.path.join(base, line.split()[0])
        if not os.path.isfile(candidate):
            raise UserError(f"{path}, line {n}: image not found: {candidate}")
        images.append(candidate)
    return images


def collect_images(sources: list[str]) -> list[str]:
    """The image paths named by ``sources``.

    Raises:
        UserError: a source that exists nowhere, a list file naming a missing image, or no image at all.
    """
    images: list[str] = []
    for source in sources:
        if os.path.isdir(source):
            found = _folder_images(source)
        elif os.path.isfile(source):
            found = _list_file_images(source) if source.lower().endswith(LIST_EXTS) else [source]
        elif glob.has_magic(source):
            found = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p) and _is_image(p))
        else:
            raise UserError(f"no such image, folder, glob or list file: {source}")
        if not found:
            raise UserError(f"no image file ({', '.join(IMAGE_EXTS)}) in {source}")
        images += found
    return list(dict.fromkeys(images))
