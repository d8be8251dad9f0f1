"""Compare training runs in one table and two plots.

``python tools/compare.py output/caltech16_cpu/* --out docs/results [--no-latency] [--input-size 112]``
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_tricks.report.compare import compare_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(compare_main())
