"""Evaluate trained weights: ``python tools/eval.py -c CONFIG [--weights PATH | --ema]``."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import eval_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(eval_main())
