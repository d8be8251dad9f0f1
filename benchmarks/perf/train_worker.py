"""A training run with a clock on it, in its own process (or one per rank under ``paddle.distributed.launch``):
``python benchmarks/perf/train_worker.py CONFIG_JSON RESULT_JSON LAUNCHED_AT``.

It starts as ``paddle-tricks train`` does (quiet Paddle, freed memory kept), runs ``Trainer(cfg).fit()`` and
writes (rank 0 only) the wall-clock times of: start-up (launch to the start of ``fit``), every batch (begin and
end of the batch callbacks), and the totals of evaluation, EMA updates and checkpoint saves (the Trainer's own
objects, timed by wrapping their methods on the instance)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(config_json: str, result_json: str, launched_at: float) -> int:
    imported = time.time()
    from paddle_tricks.utils.console import quiet
    from paddle_tricks.utils.memory import keep_freed_memory
    quiet()
    keep_freed_memory()
    from paddle.callbacks import Callback

    from benchmarks.perf.clock import Buckets
    from paddle_tricks.engine.trainer import Trainer, is_main_process

    class StepClock(Callback):
        def __init__(self):
            super().__init__()
            self.train_begin, self.begins, self.ends = None, [], []

        def on_train_begin(self, logs=None):
            self.train_begin = time.time()

        def on_train_batch_begin(self, step, logs=None):
            self.begins.append(time.time())

        def on_train_batch_end(self, step, logs=None):
            self.ends.append(time.time())

    with open(config_json) as f:
        cfg = json.load(f)
    clock, buckets = StepClock(), Buckets()
    trainer = Trainer(cfg, log=lambda *_: None, warn=lambda *_: None, callbacks=[clock])
    built = time.time()
    buckets.wrap(trainer, "evaluate", "eval")
    buckets.wrap(trainer.checkpointer, "save", "save")
    buckets.wrap(trainer.checkpointer, "save_best", "save")
    if trainer.ema is not None:
        buckets.wrap(trainer.ema, "update", "ema")
    trainer.fit()
    if is_main_process():
        result = {"launched": launched_at, "imported": imported, "built": built, "train_begin": clock.train_begin,
                  "begins": clock.begins, "ends": clock.ends, "finished": time.time(), "buckets": dict(buckets),
                  "calls": dict(buckets.calls), "world_size": int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))}
        with open(result_json, "w") as f:
            json.dump(result, f)
    return 0


def launch(cfg: dict, folder: str, processes: int = 1, threads: int | None = None) -> dict:
    """Run ``cfg`` in a fresh process (``processes`` > 1: through ``paddle.distributed.launch``) with
    ``threads`` math threads each, in ``folder``; the rank-0 result."""
    config_json, result_json = os.path.join(folder, "config.json"), os.path.join(folder, "result.json")
    with open(config_json, "w") as f:
        json.dump(cfg, f)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if threads:
        env["PADDLE_TRICKS_NUM_THREADS"] = str(threads)
    launcher = ([sys.executable] if processes == 1 else
                [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(processes),
                 "--log_dir", os.path.join(folder, "log")])
    proc = subprocess.run(launcher + [os.path.abspath(__file__), config_json, result_json, repr(time.time())],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not os.path.isfile(result_json):
        logs = "".join(open(os.path.join(folder, "log", n)).read()[-1500:]
                       for n in sorted(os.listdir(os.path.join(folder, "log")))) if processes > 1 else ""
        raise RuntimeError(f"the clocked training run failed ({proc.returncode}):\n{proc.stderr[-3000:]}{logs}")
    with open(result_json) as f:
        return json.load(f)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
