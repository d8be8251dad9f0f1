"""Reports on training runs: read run folders, compare them (table and plots), time exported models.

``tools/compare.py`` (:func:`paddle_tricks.report.compare.compare_main`) and ``tools/ablate.py``
(:mod:`paddle_tricks.ablate`) are built on it.
"""
from .runs import NotARunError, Run, eval_input_size, read_run, trick_summary  # noqa: F401

__all__ = ["NotARunError", "Run", "eval_input_size", "read_run", "trick_summary"]
