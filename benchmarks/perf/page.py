"""``docs/results/performance.md``: the machine, the command, the method, then one section per measurement."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess

from paddle_tricks.utils.machine import cpu_model

from .workload import ROOT

METHOD = (
    "Each speed figure is a ratio of two variants measured side by side in one process (or, for data parallel, "
    "in adjacent runs): single steps (calls, saves, batches) of the two alternate, the order swapping every pair, "
    "on the same data from the same starting weights, after warm-up steps on both sides. A ratio is the median "
    "of the per-pair ratios, with a percentile bootstrap 95% confidence interval (2,000 resamples of the pairs). "
    "Absolute times are medians and move with the load of the shared machine; the ratios much less.")


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def git_commit() -> str:
    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "paddle_tricks", "benchmarks", "configs")
    return commit + (" (with uncommitted changes in paddle_tricks/, benchmarks/ or configs/)" if changed else "")


def header(command: str, load_before: str, started: datetime.datetime, minutes: float, quick: bool,
           memory_kept: bool) -> str:
    import paddle
    threads = os.environ.get("PADDLE_TRICKS_NUM_THREADS", "?")
    lines = ["# Performance" + (" (quick smoke run: sizes too small to mean anything)" if quick else ""), "",
             "Written by the command below; do not edit by hand.", "",
             f"- command: `{command}`",
             f"- date: {started:%Y-%m-%d %H:%M} UTC, {minutes:.1f} min",
             f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores, {threads} math thread(s) per process",
             f"- load average: {load_before} before, {load_average()} after",
             f"- git commit: {git_commit()}",
             f"- Paddle {paddle.__version__}, Python {platform.python_version()}; freed memory "
             f"{'kept (`keep_freed_memory`)' if memory_kept else 'returned to the OS (glibc defaults)'} in every "
             f"process but the glibc-defaults runs of 'Freed memory kept'", "",
             "## Method", "", METHOD]
    return "\n".join(lines)


def section(title: str, body: str) -> str:
    return f"## {title}\n\n{body}"
