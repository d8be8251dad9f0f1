"""End-to-end epochs of the Caltech-16 CPU config (train, evaluate, save) as ``paddle-tricks train`` runs
them, where their wall time goes, and the same epochs run by the checkout at the start of issue 15 (``--base``),
with the accuracy each reaches.

Each run is a fresh process (``train_worker``) training ``sizes.epoch_epochs`` epochs with the same seed; runs of
this checkout, of the base and of this checkout on 2 processes x 1 thread (data parallel, the global batch
kept) alternate. Ratios over the base: this checkout's training steps, paired by their index in adjacent runs,
and each epoch's wall time (from its start to the next one's, the last to the end of ``fit``: train, evaluation,
saves) of this checkout and of its 2-process run, paired by epoch. The eval top-1 and EMA
top-1 of every epoch of both come from the runs' own ``metrics.jsonl``, side by side."""
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
# the same epochs by this checkout on 2 processes x 1 thread (data parallel, the global batch kept)
PARALLEL = "this, 2 processes"


def first_steps(r: dict) -> list[int]:
    """The index of the first training step of every epoch of a clocked run."""
    begins = np.asarray(r["begins"])
    return [int(np.searchsorted(begins, t)) for t in r.get("epoch_begins", [r["train_begin"]])]


def breakdown(r: dict) -> list[tuple[str, float]]:
    """(part, seconds) of a clocked run, summed over its epochs; the parts add up to its wall time."""
    begins, ends = np.asarray(r["begins"]), np.asarray(r["ends"])
    b = r["buckets"]
    ema, evaluation, saves = b.get("ema", 0.0), b.get("eval", 0.0), b.get("save", 0.0)
    starts = set(first_steps(r))
    epoch_begins = r.get("epoch_begins", [r["train_begin"]])
    # waiting for a batch: from an epoch's start to its first step, and between the steps of one epoch
    waits = sum(begins[i] - t for i, t in zip(sorted(starts), epoch_begins) if i < len(begins))
    waits += float(sum(begins[i] - ends[i - 1] for i in range(1, len(begins)) if i not in starts))
    startup = r["train_begin"] - r["launched"]
    batches = float(np.sum(ends - begins)) - ema
    total = r["finished"] - r["launched"]
    return [("start-up (imports, config, data set scan, building the Trainer, `fit` set-up)", startup),
            ("training batches (forward, backward, step, batch callbacks but EMA)", batches),
            ("data wait (reading and decoding the next batch)", waits),
            ("EMA updates", ema),
            ("evaluation", evaluation),
            ("checkpoint and best-weight saves", saves),
            ("rest of the epoch ends (weight checks, metrics, VisualDL)",
             total - startup - batches - waits - ema - evaluation - saves)]


def epoch_seconds(r: dict) -> list[float]:
    """Each epoch's wall time: from its start to the next one's; the last one's to the end of ``fit``."""
    marks = list(r.get("epoch_begins", [r["train_begin"]])) + [r["finished"]]
    return [b - a for a, b in zip(marks, marks[1:])]


def accuracy(run_folder: str) -> dict[int, dict]:
    """epoch -> its record in the run's ``metrics.jsonl`` (eval_top1, ema_top1, ...)."""
    import json
    with open(os.path.join(run_folder, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {int(r["epoch"]): r for r in records}


def checkout(rev: str, folder: str) -> str:
    """The files of commit ``rev`` (``git archive``, the working tree untouched) in ``folder``, with the worker."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", rev], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    copy_into(folder)
    return folder


def _pct(record: dict | None, key: str) -> str:
    value = (record or {}).get(key)
    return "-" if not isinstance(value, (int, float)) else f"{100 * value:.2f}"


def section(sizes: Sizes, data_root: str, base: str | None = BASE) -> tuple[str, list]:
    epochs = sizes.epoch_epochs
    with tempfile.TemporaryDirectory(prefix="perf_epoch_") as folder:
        variants = {"this": (ROOT, 1)}                     # name -> (checkout, processes)
        if base:
            variants["base"] = (checkout(base, os.path.join(folder, "base")), 1)
        variants[PARALLEL] = (ROOT, 2)
        runs, tops = {name: [] for name in variants}, {name: [] for name in variants}
        for pair in range(sizes.epoch_pairs if base else 1):
            for i, name in enumerate(list(variants) if pair % 2 == 0 else list(variants)[::-1]):
                tree, processes = variants[name]
                run = os.path.join(folder, f"{pair}_{i}")
                os.makedirs(run)
                overrides = caltech_overrides(sizes, os.path.join(run, "out"), data_root,
                                              train_images=sizes.epoch_train_images,
                                              eval_images=sizes.epoch_eval_images, epochs=epochs)
                config = os.path.join(tree, os.path.relpath(CONFIG, ROOT))
                runs[name].append(launch(config, overrides, run, processes=processes,
                                         threads=1 if processes > 1 else None, tree=tree))
                tops[name].append(accuracy(os.path.join(run, "out")))
    this = runs["this"]
    parts = {name: [breakdown(r) for r in rs] for name, rs in runs.items() if rs}
    columns = list(parts)
    steps_per_epoch = len(this[0]["begins"]) // epochs
    lines = [f"{describe(sizes)}, the config's `num_workers` and seed: {epochs} epochs of {steps_per_epoch} steps "
             f"per run ({sizes.epoch_train_images or 'all'} training and {sizes.epoch_eval_images or 'all'} "
             f"evaluation images, the cosine schedule over the {epochs} epochs), EMA and VisualDL on; "
             f"{len(this)} run(s) of this checkout"
             + (f" and {len(runs['base'])} of the base `{base}`" if base else "")
             + f" and {len(runs[PARALLEL])} of this checkout as 2 processes x 1 thread (Paddle's launcher, as `paddle-tricks train --nproc 2` runs it, "
             f"`Data.batch_size_is: global`: each process takes half of every batch at the same learning rate), "
             f"alternating. Seconds are for the whole {epochs}-epoch run (medians over the runs; for 2 processes, "
             f"rank 0's clock).", "",
             "| part | " + " | ".join(f"{c} (s)" for c in columns) + " | share (this) |",
             "|---|" + "--:|" * (len(columns) + 1)]
    total = {c: float(np.median([r["finished"] - r["launched"] for r in runs[c]])) for c in columns}
    for i, (name, _) in enumerate(parts["this"][0]):
        med = {c: float(np.median([p[i][1] for p in parts[c]])) for c in columns}
        lines.append(f"| {name} | " + " | ".join(f"{med[c]:.2f}" for c in columns)
                     + f" | {med['this'] / total['this']:.1%} |")
    lines += ["| wall time, launch to end of `fit` | " + " | ".join(f"{total[c]:.2f}" for c in columns)
              + " | 100% |", ""]
    lines.append(f"- evaluation passes per run ({' / '.join(columns)}): "
                 + " / ".join(str(runs[c][0]["calls"].get("eval", 0)) for c in columns)
                 + "; timed saves: " + " / ".join(str(runs[c][0]["calls"].get("save", 0)) for c in columns))
    if base:
        lines.append("- The base has no `Checkpointer`: its best-weight saves fall under 'rest of the epoch ends'.")
    lines.append(f"- median training step (this checkout): "
                 f"{np.median(np.subtract(this[0]['ends'], this[0]['begins'])) * 1e3:.0f} ms")
    lines.append("- wall time per epoch (s), in order: " + "; ".join(
        f"{c} " + ", ".join(f"{t:.1f}" for t in epoch_seconds(runs[c][0])) for c in columns))
    ratios = []
    if base:
        steps = {c: [np.subtract(r["ends"], r["begins"])[sizes.warmup:] for r in runs[c]] for c in columns}
        step = paired_ratio(np.concatenate(steps["this"]), np.concatenate(steps["base"]))
        ratios.append(step)
        lines.append(f"- training step, this / base (steps paired by index, the first {sizes.warmup} of each run "
                     f"not counted): {step}")
        for name in ("this", PARALLEL):
            epoch = paired_ratio(np.concatenate([epoch_seconds(r) for r in runs[name]]),
                                 np.concatenate([epoch_seconds(r) for r in runs["base"]]))
            ratios.append(epoch)
            lines.append(f"- epoch wall time (train, evaluation, saves), {name} / base, epochs paired by their "
                         f"number: {epoch}")
        lines += ["", f"Accuracy after each epoch, the first run of each (same seed; % of the "
                      f"{sizes.epoch_eval_images or 'whole'} evaluation images):", "",
                  "| epoch | " + " | ".join(f"{what} {c}" for what in ("eval top-1", "EMA top-1")
                                             for c in ("this", "base", "2 processes")) + " |",
                  "|--:|" + "--:|" * 6]
        a, b, d = tops["this"][0], tops["base"][0], tops[PARALLEL][0]
        for e in sorted(set(a) | set(b) | set(d)):
            lines.append(f"| {e} | " + " | ".join(_pct(t.get(e), key) for key in ("eval_top1", "ema_top1")
                                                   for t in (a, b, d)) + " |")
        last = max(a) if a else None
        if last is not None and last in b:
            same = all(_pct(a[last], k) == _pct(b[last], k) for k in ("eval_top1", "ema_top1"))
            lines += ["", f"- this / base after epoch {last}: " + (
                "the same eval and EMA top-1 (to 0.01 %)" if same else
                "the accuracies differ (see the table): the two trained or evaluated differently")]
        lines.append("- 2 processes train the same steps on the same global batches, but each BatchNorm layer "
                     "normalises over its process's half batch (no synchronised BN on the CPU) and each process "
                     "draws its own augmentation: its accuracy is that of a slightly different run.")
    return "\n".join(lines), ratios
