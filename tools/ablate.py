"""Run a base config and its trick variants with the same seeds and budget, then compare them.

``python tools/ablate.py -c configs/ablations/base_resnet18_shapes.yaml [--tricks acblock,se] [--seeds 0,1]
[--confirm-seeds 1] [--dry-run] [--out DIR] [-o Global.epochs=3]``
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.ablate import ablate_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(ablate_main())
