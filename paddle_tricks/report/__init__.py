"""Reports on training runs: read run folders, compare them (table and plots), time exported models.

``paddle-tricks compare`` (:mod:`paddle_tricks.cli.compare`) and ``paddle-tricks ablate``
(:mod:`paddle_tricks.ablate`) are built on it.
"""
from .runs import NotARunError, Run, eval_input_size, read_run, trick_summary  # noqa: F401

__all__ = ["NotARunError", "Run", "eval_input_size", "read_run", "trick_summary"]
