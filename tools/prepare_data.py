"""Put a dataset where the configs expect it.

    python tools/prepare_data.py caltech16 --source ../shared/data/caltech101     # link an existing copy
    python tools/prepare_data.py caltech16 --download                              # official archive, MD5-checked
    python tools/prepare_data.py fashion_mnist --source ../shared/data/fashion-mnist
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.utils.console import user_errors  # noqa: E402


@user_errors
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Link or download a dataset into data/.")
    parser.add_argument("dataset", choices=["caltech16", "fashion_mnist"])
    parser.add_argument("--source", help="an existing copy (folder or archive)")
    parser.add_argument("--download", action="store_true", help="download the official files (needs network)")
    parser.add_argument("--dest", help="where to put it (default data/caltech101 or data/fashion-mnist)")
    args = parser.parse_args(argv)
    from paddle_tricks.data.prepare import prepare_caltech16, prepare_fashion_mnist
    if args.dataset == "caltech16":
        prepare_caltech16(args.source, args.download, args.dest or "data/caltech101")
    else:
        prepare_fashion_mnist(args.source, args.download, args.dest or "data/fashion-mnist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
