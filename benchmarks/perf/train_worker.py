"""A training run with a clock on it, in its own process (one per rank under ``paddle.distributed.launch``):
``python benchmarks/perf/train_worker.py JOB_JSON RESULT_JSON LAUNCHED_AT``.

It runs the checkout's own train command (``paddle_tricks.cli.train_main``, as ``paddle-tricks train`` and the
older ``tools/train.py`` do: same start-up, same run folder handling) on a config and its ``-o`` overrides,
with a clock added to every ``paddle.Model.fit`` call and around the methods named in ``TIMED`` that the
checkout has. Rank 0 writes the wall-clock times of: the launch, the start of ``fit``, the start of every
epoch, the begin and end of every batch's callbacks, the end of ``fit``, and the seconds spent per bucket (evaluation, EMA, saves). This
file and ``clock.py`` are copied into an older checkout to time it the same way (``epoch --base``).
"""
from __future__ import annotations

import os
import sys

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path[0] = TREE      # run as a script: this folder's modules must not shadow others

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

# (module, class, method, bucket): timed where the checkout has them
TIMED = [("paddle_tricks.engine.trainer", "Trainer", "evaluate", "eval"),
         ("paddle_tricks.engine.ema", "ModelEMA", "update", "ema"),
         ("paddle_tricks.engine.checkpoint", "Checkpointer", "save", "save"),
         ("paddle_tricks.engine.checkpoint", "Checkpointer", "save_best", "save"),
         ("paddle_tricks.engine.trainer", "Trainer", "save_checkpoint", "save")]


def main(job_json: str, result_json: str, launched_at: float) -> int:
    import importlib

    import paddle
    from paddle.callbacks import Callback

    from benchmarks.perf.clock import Buckets

    times = {"begins": [], "ends": []}

    class StepClock(Callback):
        def on_train_begin(self, logs=None):
            times.setdefault("train_begin", time.time())

        def on_epoch_begin(self, epoch, logs=None):
            times.setdefault("epoch_begins", []).append(time.time())

        def on_train_batch_begin(self, step, logs=None):
            times["begins"].append(time.time())

        def on_train_batch_end(self, step, logs=None):
            times["ends"].append(time.time())

    buckets = Buckets()
    fit = paddle.Model.fit

    def clocked_fit(model, *args, callbacks=None, **kwargs):
        return fit(model, *args, callbacks=list(callbacks or []) + [StepClock()], **kwargs)
    paddle.Model.fit = clocked_fit
    for module, cls, method, bucket in TIMED:
        owner = getattr(importlib.import_module(module), cls, None)
        if owner is not None and hasattr(owner, method):
            buckets.wrap(owner, method, bucket)

    with open(job_json) as f:
        job = json.load(f)
    from paddle_tricks.cli import train_main
    argv = ["-c", job["config"]] + [arg for o in job["overrides"] for arg in ("-o", o)]
    code = train_main(argv)
    if code:
        return code
    if paddle.distributed.get_rank() == 0:
        result = {"launched": launched_at, "finished": time.time(), **times, "buckets": dict(buckets),
                  "calls": dict(buckets.calls)}
        with open(result_json, "w") as f:
            json.dump(result, f)
    return 0


def copy_into(tree: str) -> None:
    """Put this worker (and the clock it uses) into the checkout ``tree``."""
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.path.join(tree, "benchmarks", "perf")
    os.makedirs(target, exist_ok=True)
    for name in ("__init__.py", "clock.py", "train_worker.py"):
        shutil.copy(os.path.join(here, name), os.path.join(target, name))


def launch(config: str, overrides: list, folder: str, processes: int = 1, threads: int | None = None,
           tree: str = TREE) -> dict:
    """Train ``config`` with ``overrides`` in a fresh process (``processes`` > 1: through
    ``paddle.distributed.launch``) with ``threads`` math threads each, using the checkout ``tree``; the rank-0
    result. ``folder`` holds the job, the result and the launcher's logs."""
    job_json, result_json = os.path.join(folder, "job.json"), os.path.join(folder, "result.json")
    with open(job_json, "w") as f:
        json.dump({"config": config, "overrides": list(overrides)}, f)
    threads = str(threads or os.cpu_count() or 1)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PADDLE_TRICKS_NUM_THREADS": threads,
           "OMP_NUM_THREADS": threads}
    launcher = ([sys.executable] if processes == 1 else
                [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(processes),
                 "--log_dir", os.path.join(folder, "log")])
    worker = os.path.join(tree, "benchmarks", "perf", "train_worker.py")
    proc = subprocess.run(launcher + [worker, job_json, result_json, repr(time.time())], capture_output=True,
                          text=True, env=env, cwd=tree)
    if proc.returncode != 0 or not os.path.isfile(result_json):
        logs = os.path.join(folder, "log")
        tails = ("".join(open(os.path.join(logs, n)).read()[-1000:] for n in sorted(os.listdir(logs))
                         if n.startswith("workerlog")) if processes > 1 else proc.stderr[-2000:])
        raise RuntimeError(f"the clocked training run failed ({proc.returncode}):\n{tails}")
    with open(result_json) as f:
        return json.load(f)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
