"""One end-to-end epoch of the Caltech-16 CPU config (train, evaluate, save) as ``paddle-tricks train`` runs it,
where its wall time goes, and the same epoch run by the checkout at the start of issue 15 (``--base``).

Each run is a fresh process (``train_worker``); runs of this checkout and of the base alternate (this, base,
base, this, ...). Two ratios, this checkout over the base: the training steps, paired by their index in
adjacent runs, and the epoch's wall time from the start of ``fit`` to its end (train, evaluation, saves; the
start-up is listed apart), paired run by run."""
from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile

import numpy as np

from .stats import paired_ratio
from .train_worker import copy_into, launch
from .workload import CONFIG, ROOT, Sizes, caltech_overrides, describe

# the last commit before the work on issue 15 began (2026-11-23): "the start of this issue"
BASE = "f75c3a3"


def breakdown(r: dict) -> list[tuple[str, float]]:
    """(part, seconds) of a clocked run; the parts add up to its wall time."""
    begins, ends = np.asarray(r["begins"]), np.asarray(r["ends"])
    b = r["buckets"]
    ema, evaluation, saves = b.get("ema", 0.0), b.get("eval", 0.0), b.get("save", 0.0)
    waits = (begins[0] - r["train_begin"]) + float(np.sum(begins[1:] - ends[:-1]))
    return [("start-up (imports, config, data set scan, building the Trainer, `fit` set-up)",
             r["train_begin"] - r["launched"]),
            ("training batches (forward, backward, step, batch callbacks but EMA)", float(np.sum(ends - begins)) - ema),
            ("data wait (reading and decoding the next batch)", waits),
            ("EMA updates", ema),
            ("evaluation", evaluation),
            ("checkpoint and best-weight saves", saves),
            ("rest of the epoch end (weight checks, metrics, VisualDL)", r["finished"] - ends[-1] - evaluation - saves)]


def epoch_seconds(r: dict) -> float:
    return r["finished"] - r["train_begin"]


def checkout(rev: str, folder: str) -> str:
    """The files of commit ``rev`` (``git archive``, the working tree untouched) in ``folder``, with the worker."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", rev], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    copy_into(folder)
    return folder


def section(sizes: Sizes, data_root: str, base: str | None = BASE) -> tuple[str, list]:
    runs = {"this": [], "base": []}
    with tempfile.TemporaryDirectory(prefix="perf_epoch_") as folder:
        trees = {"this": ROOT}
        if base:
            trees["base"] = checkout(base, os.path.join(folder, "base"))
        for pair in range(sizes.epoch_pairs if base else 1):
            for name in (list(trees) if pair % 2 == 0 else list(trees)[::-1]):
                run = os.path.join(folder, f"{name}{pair}")
                os.makedirs(run)
                overrides = caltech_overrides(sizes, os.path.join(run, "out"), data_root,
                                              train_images=sizes.epoch_train_images,
                                              eval_images=sizes.epoch_eval_images)
                config = os.path.join(trees[name], os.path.relpath(CONFIG, ROOT))
                runs[name].append(launch(config, overrides, run, tree=trees[name]))
    this = runs["this"]
    parts = {name: [breakdown(r) for r in rs] for name, rs in runs.items() if rs}
    columns = list(parts)
    lines = [f"{describe(sizes)}, the config's `num_workers`: one epoch of {len(this[0]['begins'])} steps "
             f"({sizes.epoch_train_images or 'all'} training and {sizes.epoch_eval_images or 'all'} evaluation "
             f"images), EMA and VisualDL on; {len(this)} run(s) of this checkout"
             + (f" and {len(runs['base'])} of the base `{base}`, alternating" if base else "")
             + ". Seconds are medians over the runs.", "",
             "| part | " + " | ".join(f"{c} (s)" for c in columns) + " | share (this) |",
             "|---|" + "--:|" * (len(columns) + 1)]
    total = {c: float(np.median([r["finished"] - r["launched"] for r in runs[c]])) for c in columns}
    for i, (name, _) in enumerate(parts["this"][0]):
        med = {c: float(np.median([p[i][1] for p in parts[c]])) for c in columns}
        lines.append(f"| {name} | " + " | ".join(f"{med[c]:.2f}" for c in columns)
                     + f" | {med['this'] / total['this']:.1%} |")
    lines += ["| wall time, launch to end of `fit` | " + " | ".join(f"{total[c]:.2f}" for c in columns)
              + " | 100% |", ""]
    lines.append("- evaluation passes per epoch: " + ", ".join(f"{c} {runs[c][0]['calls'].get('eval', 0)}"
                                                            for c in columns)
                 + "; timed saves: " + ", ".join(f"{c} {runs[c][0]['calls'].get('save', 0)}" for c in columns))
    if base:
        lines.append("- The base has no `Checkpointer`: its best-weight saves fall under 'rest of the epoch end'.")
    lines.append(f"- median training step (this checkout): "
                 f"{np.median(np.subtract(this[0]['ends'], this[0]['begins'])) * 1e3:.0f} ms")
    ratios = []
    if base:
        steps = {c: [np.subtract(r["ends"], r["begins"])[sizes.warmup:] for r in runs[c]] for c in columns}
        step = paired_ratio(np.concatenate(steps["this"]), np.concatenate(steps["base"]))
        ratios.append(step)
        lines.append(f"- training step, this / base (steps paired by index, the first {sizes.warmup} of each run "
                     f"not counted): {step}")
        epochs = [epoch_seconds(a) / epoch_seconds(b) for a, b in zip(runs["this"], runs["base"])]
        if len(epochs) >= 2:
            epoch = paired_ratio([epoch_seconds(r) for r in runs["this"]], [epoch_seconds(r) for r in runs["base"]])
            ratios.append(epoch)
            lines.append(f"- epoch wall time (train, evaluation, saves), this / base: {epoch}")
        else:
            lines.append(f"- epoch wall time (train, evaluation, saves), this / base: {epochs[0]:.3f} (one pair of "
                         f"runs: no interval)")
    return "\n".join(lines), ratios
