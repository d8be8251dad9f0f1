"""``paddle-tricks prepare-data``: put a dataset where the configs expect it.

    paddle-tricks prepare-data caltech16 --source ../shared/data/caltech101     # link an existing copy
    paddle-tricks prepare-data caltech16 --download                              # official archive, MD5-checked
    paddle-tricks prepare-data fashion_mnist --source ../shared/data/fashion-mnist
"""
from __future__ import annotations

import argparse

from ..utils.console import quiet, user_errors

__all__ = ["prepare_data_main"]


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
    if args.dataset == "caltech16":
        prepare_caltech16(args.source, args.download, args.dest or "data/caltech101")
    else:
        prepare_fashion_mnist(args.source, args.download, args.dest or "data/fashion-mnist")
    return 0
