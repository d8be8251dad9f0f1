"""Classify images: ``python tools/infer.py -m RUN_OR_EXPORT_FOLDER IMAGES... [--out predictions.csv]``.

The same as ``paddle-tricks infer``; this wrapper runs it from a checkout without installing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["infer", *sys.argv[1:]]))
