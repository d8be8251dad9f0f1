"""Test-only pause points, so a test can kill a real training process at an exact moment.

Set ``PADDLE_TRICKS_TEST_HANG`` to one point and the trainer pauses there, after printing
``PADDLE_TRICKS_TEST_HANG reached <point>`` on stderr, so the test can send ``SIGKILL``:

* ``step:E:S``: after training step S of epoch E (both 1-based), in the middle of the epoch;
* ``save:E``: while saving the checkpoint of epoch E, when the temporary file is complete and the rename
  has not happened yet.

Unset (the normal case) nothing happens. A pause ends by itself after ``MAX_PAUSE`` seconds and training
goes on unchanged, so a forgotten variable can only slow a run down, never change its results.
"""
from __future__ import annotations

import os
import sys
import time

from paddle.callbacks import Callback

__all__ = ["ENV", "MAX_PAUSE", "requested", "pause_if", "StepPause"]

ENV = "PADDLE_TRICKS_TEST_HANG"
MAX_PAUSE = 120.0


def requested() -> str | None:
    """The pause point the environment asks for, or None."""
    return os.environ.get(ENV) or None


def pause_if(point: str) -> None:
    """Pause at ``point`` if it is the requested one."""
    if requested() != point:
        return
    print(f"{ENV} reached {point}", file=sys.stderr, flush=True)
    time.sleep(MAX_PAUSE)


class StepPause(Callback):
    """Calls ``pause_if('step:E:S')`` after every training step (added only when ``ENV`` is set)."""

    def __init__(self, start_epoch: int):
        super().__init__()
        self.start_epoch, self.epoch = start_epoch, 0

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.start_epoch + epoch

    def on_train_batch_end(self, step, logs=None):
        pause_if(f"step:{self.epoch + 1}:{step + 1}")
