"""Test helper: ``tools/train.py`` that pauses at one point so that a test can kill it there with SIGKILL.

    python tests/pause_train.py POINT [train arguments...]

POINT is ``step:E:S`` (after training step S of epoch E, both 1-based) or ``save:E`` (the checkpoint of epoch E
is complete in its temporary file and not yet renamed). On reaching it the process prints ``MARKER POINT`` on
stderr and sleeps. The pause is patched in from here, so production code carries no test hook.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle.callbacks import Callback  # noqa: E402

from paddle_tricks.cli import train_main  # noqa: E402
from paddle_tricks.engine import checkpoint, run_files, trainer  # noqa: E402

MARKER = "PAUSED at"


def pause(point: str) -> None:
    print(f"{MARKER} {point}", file=sys.stderr, flush=True)
    time.sleep(120)


class StepPause(Callback):
    def __init__(self, point: str, run):
        super().__init__()
        self.point, self.run, self.epoch = point, run, 0

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.run.start_epoch + epoch

    def on_train_batch_end(self, step, logs=None):
        if self.point == f"step:{self.epoch + 1}:{step + 1}":
            pause(self.point)


def install(point: str) -> None:
    init, save, write = trainer.Trainer.__init__, checkpoint.Checkpointer.save, checkpoint.atomic_write
    saving = {"epoch": None}

    def patched_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.extra_callbacks.append(StepPause(point, self))

    def patched_save(self, progress, *args, **kwargs):
        saving["epoch"] = progress.epoch
        return save(self, progress, *args, **kwargs)

    def patched_write(path, *args, **kwargs):
        if path.endswith(run_files.CHECKPOINT) and point == f"save:{saving['epoch']}":
            kwargs["before_replace"] = lambda: pause(point)
        return write(path, *args, **kwargs)

    trainer.Trainer.__init__ = patched_init
    checkpoint.Checkpointer.save = patched_save
    checkpoint.atomic_write = patched_write


if __name__ == "__main__":
    install(sys.argv[1])
    sys.exit(train_main(sys.argv[2:]))
