"""``python -m paddle_tricks <command> ...``: the same as the ``paddle-tricks`` console script."""
import sys

from paddle_tricks.cli import main

if __name__ == "__main__":
    sys.exit(main())
