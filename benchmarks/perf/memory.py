"""Freed memory kept in the process (``keep_freed_memory``, glibc ``mallopt``) against glibc's defaults, with
``benchmarks/bench_memory.py``'s runs: the allocator setting is per process, so each variant is a fresh
process training MobileNetV2 on random images; runs alternate (kept, default, default, kept, ...) and the
timed steps of adjacent runs are paired by their index, after warm-up steps."""
from __future__ import annotations

import argparse

import numpy as np

from .stats import ms, paired_ratio
from .workload import Sizes


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    from benchmarks.bench_memory import run_variant
    pairs, steps = sizes.memory_pairs, sizes.memory_steps
    args = argparse.Namespace(steps=steps, warmup=sizes.warmup, size=sizes.image, batch=sizes.batch)
    runs = {"kept": [], "default": []}
    for pair in range(pairs):
        for variant in (("kept", "default") if pair % 2 == 0 else ("default", "kept")):
            runs[variant].append(run_variant(variant, args))
    if not all(r["kept"] for r in runs["kept"]) or any(r["kept"] for r in runs["default"]):
        raise RuntimeError("keep_freed_memory did not take effect as asked (not Linux/glibc?)")
    seconds = {v: np.concatenate([r["seconds"] for r in rs]) for v, rs in runs.items()}
    faults = {v: np.concatenate([r["faults"] for r in rs]) for v, rs in runs.items()}
    ratio = paired_ratio(seconds["kept"], seconds["default"])
    lines = [f"MobileNetV2 (16 classes) at {sizes.image} px, batch {sizes.batch}, Momentum, random images; "
             f"{pairs} pair(s) of runs of {steps} timed steps after {sizes.warmup} warm-up step(s).", "",
             "| allocator | median ms/step | minor page faults per step (median) |", "|---|--:|--:|",
             f"| freed memory kept (`keep_freed_memory()`, as `paddle-tricks train` does) | {ms(seconds['kept'])} | "
             f"{np.median(faults['kept']):,.0f} |",
             f"| glibc defaults (`PADDLE_TRICKS_MALLOC=default`) | {ms(seconds['default'])} | "
             f"{np.median(faults['default']):,.0f} |", "",
             f"- step time, kept / glibc defaults: {ratio}"]
    return "\n".join(lines), [ratio]
