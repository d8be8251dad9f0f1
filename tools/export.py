"""Fuse and export a config's network: ``python tools/export.py -c CONFIG [--weights PATH] [--out DIR] [--input-size 224]``.

Reparameterises (ACBlock and conv+BN fusion), saves with ``paddle.jit.save``, reloads the saved program and
checks it against the dygraph eval output (see ``paddle_tricks.export``).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.export import export_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(export_main())
