"""Getting the datasets into ``data/``: link an existing copy, or download the official archive (checked by MD5).

``python tools/prepare_data.py caltech16 --source /path/to/101_ObjectCategories`` links it as
``data/caltech101`` and prints the Caltech-16 split; ``--download`` fetches the official CaltechDATA archive
(only when asked; the MD5 is verified by ``paddle.utils.download``). ``fashion_mnist`` works the same way.
"""
from __future__ import annotations

import os

from ..errors import DataError
from .caltech16 import CALTECH101_ARCHIVES, CALTECH16_CLASSES, caltech16_split, find_caltech101_root

__all__ = ["prepare_caltech16", "prepare_fashion_mnist"]

FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"]


def _check_dest(dest: str) -> None:
    """Refuse a ``--dest`` that cannot become a folder (a file on its path) before anything is downloaded or
    extracted."""
    folder = os.path.dirname(os.path.abspath(dest))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise DataError(f"--dest {dest}: {folder} is a file, not a folder; choose another --dest")


def _link(source: str, dest: str) -> None:
    source = os.path.abspath(source)
    try:
        if os.path.islink(dest):
            os.remove(dest)
        elif os.path.exists(dest):
            raise DataError(f"{dest} already exists and is not a link; remove it or choose another --dest")
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        os.symlink(source, dest)
    except OSError as e:
        raise DataError(f"could not link {dest} -> {source}: {e.strerror}") from None


def _download(url: str, md5: str, folder: str) -> str:
    from paddle.utils.download import get_path_from_url
    try:
        return get_path_from_url(url, folder, md5sum=md5, decompress=False)
    except Exception as e:  # no network, HTTP error, bad checksum
        raise DataError(f"download of {url} failed ({type(e).__name__}: {e}); fetch it by hand and pass "
                        f"--source") from None


def prepare_caltech16(source: str | None = None, download: bool = False, dest: str = "data/caltech101",
                      log=print) -> str:
    """Link or download Caltech-101 at ``dest`` and report the Caltech-16 split; returns the class-folder root."""
    _check_dest(dest)
    if download:
        url, md5 = CALTECH101_ARCHIVES["caltech-101.zip"]
        log(f"downloading {url} (MD5 {md5}) ...")
        source = _download(url, md5, os.path.dirname(os.path.abspath(dest)) or ".")
    if source is None:
        if os.path.exists(dest):
            source = dest
        else:
            raise DataError("give --source PATH (a Caltech-101 folder or archive) or --download")
    root = find_caltech101_root(source)
    if os.path.abspath(root) != os.path.abspath(dest):
        _link(root, dest)
    train, evals = caltech16_split(dest)
    log(f"Caltech-101 at {dest} -> {root}")
    log(f"Caltech-16: {len(CALTECH16_CLASSES)} classes, {len(train)} train / {len(evals)} eval images")
    if (len(train), len(evals)) != (1447, 370):
        log("warning: the split differs from the reference 1,447 / 370: is this the complete Caltech-101?")
    return root


def prepare_fashion_mnist(source: str | None = None, download: bool = False, dest: str = "data/fashion-mnist",
                          log=print) -> str:
    """Link (``source``) or download the four Fashion-MNIST IDX files into ``dest``."""
    _check_dest(dest)
    if download:
        import paddle.vision.datasets as D
        os.makedirs(dest, exist_ok=True)
        for mode in ("train", "test"):
            try:
                ds = D.FashionMNIST(mode=mode, download=True)
            except Exception as e:
                raise DataError(f"Fashion-MNIST download failed ({type(e).__name__}: {e})") from None
            for path in (ds.image_path, ds.label_path):
                target = os.path.join(dest, os.path.basename(path))
                if not os.path.exists(target):
                    os.symlink(os.path.abspath(path), target)
        source = dest
    if source is None:
        raise DataError("give --source FOLDER (with the four *-ubyte.gz files) or --download")
    missing = [f for f in FASHION_FILES if not os.path.isfile(os.path.join(source, f))]
    if missing:
        raise DataError(f"{source} lacks {', '.join(missing)}")
    if os.path.abspath(source) != os.path.abspath(dest):
        _link(source, dest)
    log(f"Fashion-MNIST at {dest} -> {os.path.abspath(source)}")
    return dest
