"""Evaluate trained weights: ``python tools/eval.py -c CONFIG_OR_RUN_FOLDER [--weights PATH | --ema]``.

The same as ``paddle-tricks eval``; this wrapper runs it from a checkout without installing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["eval", *sys.argv[1:]]))
