"""Run a base config and its trick variants, then compare: ``python tools/ablate.py -c ablations/base_resnet18_shapes``.

The same as ``paddle-tricks ablate``; this wrapper runs it from a checkout without installing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["ablate", *sys.argv[1:]]))
