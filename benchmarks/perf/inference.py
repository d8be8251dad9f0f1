"""Inference per backend, through the backends of ``paddle-tricks infer``: dygraph (the trained form, eval
mode), the ``paddle.inference`` export and the ONNX Runtime export (both with BN folded), on MobileNetV2 whose
BN statistics are calibrated on random images (``benchmarks/bench_deploy.py``). Each round times one call of
each backend (rotating order) on the same batch, after warm-up calls; the speed-up of an export is dygraph's
time over its time, per round."""
from __future__ import annotations

import copy
import os
import tempfile
import time

import numpy as np

from .stats import paired_ratio
from .workload import Sizes

BACKENDS = ("dygraph", "paddle.inference", "onnxruntime")


def backends(size: int, out: str) -> tuple[dict, list]:
    """The three backends of one calibrated MobileNetV2, and the exports' differences from dygraph."""
    from benchmarks.bench_deploy import calibrated
    from paddle_tricks.export import export_network
    from paddle_tricks.infer.backends import DygraphBackend, OnnxBackend, PaddleInferenceBackend

    net = calibrated("mobilenet_v2", size)
    found, checks = {"dygraph": DygraphBackend(net)}, []
    for fmt in ("paddle", "onnx"):
        res = export_network(copy.deepcopy(net), os.path.join(out, fmt), input_size=size, fmt=fmt,
                             atol=1e-3)
        checks.append(f"{res.runtime} max abs difference from dygraph {res.max_abs_diff:.1g}")
        found[res.runtime] = (PaddleInferenceBackend(res.path_prefix) if fmt == "paddle"
                              else OnnxBackend(res.path_prefix + ".onnx"))
    return found, checks


def rounds_of(runners: dict, x: np.ndarray, rounds: int, warmup: int) -> dict:
    """Seconds of ``rounds`` single calls per backend, the order rotating each round."""
    for run in runners.values():
        for _ in range(warmup):
            run(x)
    names, seconds = list(runners), {name: [] for name in runners}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            runners[name](x)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    with tempfile.TemporaryDirectory(prefix="perf_infer_") as out:
        runners, checks = backends(sizes.infer_image, out)
        rows, ratios = [], []
        for batch, rounds in sizes.infer_rounds:
            x = np.random.RandomState(1).standard_normal((batch, 3, sizes.infer_image, sizes.infer_image))
            seconds = rounds_of(runners, x.astype("float32"), max(2, rounds), sizes.warmup)
            speed = {name: batch / np.median(seconds[name]) for name in BACKENDS}
            pair = [paired_ratio(seconds["dygraph"], seconds[name]) for name in BACKENDS[1:]]
            ratios += pair
            rows.append(f"| {batch} | {max(2, rounds)} | " + " | ".join(f"{speed[n]:.1f}" for n in BACKENDS)
                        + f" | {pair[0]} | {pair[1]} |")
    lines = [f"MobileNetV2 (16 classes) at {sizes.infer_image} px; {'; '.join(checks)}. Images/s are medians "
             f"over the rounds.", "",
             "| batch | rounds | dygraph img/s | paddle.inference img/s | ONNX Runtime img/s | "
             "speed-up of paddle.inference | speed-up of ONNX Runtime |", "|--:|--:|--:|--:|--:|--:|--:|", *rows]
    return "\n".join(lines), ratios
