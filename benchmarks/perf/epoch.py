"""One end-to-end epoch of the Caltech-16 CPU config (train, evaluate the raw and the EMA weights, save), in a
fresh process as ``paddle-tricks train`` runs it, and where its wall time goes (``train_worker``)."""
from __future__ import annotations

import tempfile

import numpy as np

from .workload import Sizes, caltech_config, describe
from .train_worker import launch


def breakdown(r: dict) -> list[tuple[str, float]]:
    """(part, seconds) of a clocked run; the parts add up to its wall time."""
    begins, ends = np.asarray(r["begins"]), np.asarray(r["ends"])
    b = r["buckets"]
    ema, evaluation, saves = b.get("ema", 0.0), b.get("eval", 0.0), b.get("save", 0.0)
    waits = (begins[0] - r["train_begin"]) + float(np.sum(begins[1:] - ends[:-1]))
    return [("start-up (imports, building the Trainer, data set scan, `fit` set-up)", r["train_begin"] - r["launched"]),
            ("training batches (forward, backward, step, batch callbacks but EMA)", float(np.sum(ends - begins)) - ema),
            ("data wait (reading and decoding the next batch)", waits),
            ("EMA updates", ema),
            ("evaluation (raw and EMA weights)", evaluation),
            ("checkpoint and best-weight saves", saves),
            ("rest of the epoch end (weight checks, metrics, VisualDL)", r["finished"] - ends[-1] - evaluation - saves)]


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    with tempfile.TemporaryDirectory(prefix="perf_epoch_") as folder:
        cfg = caltech_config(sizes, folder + "/run", data_root, train_images=sizes.epoch_train_images,
                             eval_images=sizes.epoch_eval_images)
        r = launch(cfg, folder)
    parts = breakdown(r)
    total = r["finished"] - r["launched"]
    steps = len(r["begins"])
    lines = [f"{describe(sizes)}, `num_workers: {cfg['Data']['num_workers']}`: one epoch of {steps} steps "
             f"({'all' if not sizes.epoch_train_images else sizes.epoch_train_images} training images, "
             f"{'all' if not sizes.epoch_eval_images else sizes.epoch_eval_images} evaluation images), EMA and "
             f"VisualDL on, {r['calls'].get('eval', 0)} evaluations, {r['calls'].get('save', 0)} saves. "
             f"One run: a breakdown, not a ratio.", "",
             "| part | seconds | share |", "|---|--:|--:|"]
    lines += [f"| {name} | {seconds:.2f} | {seconds / total:.1%} |" for name, seconds in parts]
    lines += [f"| wall time, launch to end of `fit` | {total:.2f} | 100% |", "",
              f"- median training step: {np.median(np.subtract(r['ends'], r['begins'])) * 1e3:.0f} ms; "
              f"the parts add up to {sum(s for _, s in parts):.2f} s"]
    return "\n".join(lines), []
