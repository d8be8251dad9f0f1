"""Link or download a dataset: ``python tools/prepare_data.py caltech16 --source ../shared/data/caltech101``.

The same as ``paddle-tricks prepare-data``; this wrapper runs it from a checkout without installing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["prepare-data", *sys.argv[1:]]))
