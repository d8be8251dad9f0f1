"""``paddle-tricks prepare-data``: put a dataset where the configs expect it.

    paddle-tricks prepare-data caltech16 --source ../shared/data/caltech101     # link an existing copy
    paddle-tricks prepare-data caltech16 --download                              # official archive, MD5-checked
    paddle-tricks prepare-data fashion_mnist --source ../shared/data/fashion-mnist
"""
from __future__ import annotations

import argparse
import os

from ..utils.console import quiet, user_errors

__all__ = ["prepare_data_main"]

# dataset -> (default destination, relative to the working folder as in the configs; a config that uses it)
_DEFAULTS = {"caltech16": ("data/caltech101", "caltech16/cpu/asymmnet_small_112"),
             "fashion_mnist": ("data/fashion-mnist", "fashion_mnist/lenet")}


@user_errors
def prepare_data_main(argv=None) -> int:
    """Link or download Caltech-16 or Fashion-MNIST into ``data/`` (or ``--dest``)."""
    parser = argparse.ArgumentParser(prog="paddle-tricks prepare-data", description="Link or download a dataset "
                                                                                    "into data/.")
    parser.add_argument("dataset", choices=["caltech16", "fashion_mnist"])
    parser.add_argument("--source", help="an existing copy (folder or archive)")
    parser.add_argument("--download", action="store_true", help="download the official files (needs network)")
    parser.add_argument("--dest", help="where to put it (default data/caltech101 or data/fashion-mnist)")
    args = parser.parse_args(argv)
    quiet()
    from ..data.prepare import prepare_caltech16, prepare_fashion_mnist
    default, config = _DEFAULTS[args.dataset]
    dest = os.path.abspath(args.dest or default)
    prepare = prepare_caltech16 if args.dataset == "caltech16" else prepare_fashion_mnist
    prepare(args.source, args.download, dest)
    root = "" if os.path.abspath(default) == dest else f" -o Data.root={dest}"
    print(f"next: paddle-tricks train -c {config}{root}")
    return 0
