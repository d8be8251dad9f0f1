"""Compare training runs in one table and two plots: ``python tools/compare.py output/caltech16_cpu/* --out DIR``.

The same as ``paddle-tricks compare``; this wrapper runs it from a checkout without installing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
