"""Data parallel on the CPU: 2 processes x 1 thread (``paddle.distributed.launch``, gloo) against 1 process x 2
threads, for the same recipe: ``Data.batch_size`` is the global batch (``Data.batch_size_is: global``, the
default), so each of the 2 processes takes half of it at the same learning rate. Runs alternate (1, 2, 2, 1,
...); within a pair the timed steps are paired by their index, a step being the cycle from one batch's start to
the next (data included), after warm-up steps."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from .stats import ms, paired_ratio
from .train_worker import launch
from .workload import CONFIG, Sizes, caltech_overrides, describe

LAYOUTS = {"1 process x 2 threads": (1, 2), "2 processes x 1 thread": (2, 1)}


def step_cycles(result: dict, warmup: int) -> np.ndarray:
    return np.diff(np.asarray(result["begins"]))[warmup:]


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    cycles = {name: [] for name in LAYOUTS}
    with tempfile.TemporaryDirectory(prefix="perf_parallel_") as folder:
        for pair in range(sizes.parallel_pairs):
            order = list(LAYOUTS) if pair % 2 == 0 else list(LAYOUTS)[::-1]
            for name in order:
                processes, threads = LAYOUTS[name]
                run = os.path.join(folder, f"{pair}_{processes}")
                os.makedirs(run)
                overrides = caltech_overrides(sizes, os.path.join(run, "out"), data_root,
                                              train_images=sizes.parallel_steps * sizes.batch,
                                              eval_images=sizes.eval_images)
                r = launch(CONFIG, overrides, run, processes=processes, threads=threads)
                cycles[name].append(step_cycles(r, sizes.warmup))
    one, two = (np.concatenate(cycles[name]) for name in LAYOUTS)
    n = min(len(one), len(two))
    ratio = paired_ratio(one[:n], two[:n])
    lines = [f"{describe(sizes)} (global), {sizes.parallel_pairs} pair(s) of runs of {sizes.parallel_steps} "
             f"steps, the first {sizes.warmup} of each not counted; `Data.batch_size_is: global` (the global batch "
             f"and the learning rate of the single process kept).", "",
             "| layout | per-process batch | median ms/step | images/s |", "|---|--:|--:|--:|"]
    for name, (processes, _) in LAYOUTS.items():
        steps = np.concatenate(cycles[name])
        lines.append(f"| {name} | {sizes.batch // processes} | {ms(steps)} | "
                     f"{sizes.batch / np.median(steps):.1f} |")
    lines += ["", f"- throughput, 2 processes / 1 process: {ratio}",
              "- BatchNorm statistics are per process, over half the batch (no synchronised BN on the CPU)."]
    return "\n".join(lines), [ratio]
