"""CPU inference latency of an exported network (batch 1, median of N timed runs).

The network is exported the way it would be deployed, with :func:`paddle_tricks.export.export_network`
(reparameterised: ACBlocks fused, BatchNorms folded; traced with ``paddle.jit.to_static``, saved with
``paddle.jit.save``, reloaded and checked against the dygraph output), then the saved program runs in a
``paddle.inference`` predictor on the CPU with a fixed number of math threads. Each timed run copies the
input in, runs and copies the output out; the first ``warmup`` runs are not timed. When the inference
library cannot load the program, the ``paddle.jit.load`` module is timed instead (``backend`` says which).

Latency on a shared machine is noisy: compare numbers measured in one session, with the same thread count,
on an otherwise idle machine.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import paddle
import paddle.nn as nn

__all__ = ["LatencyResult", "measure_latency", "time_exported"]


@dataclass
class LatencyResult:
    """Latency statistics in milliseconds over ``repeats`` timed runs."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    repeats: int
    threads: int
    backend: str
    export_prefix: str
    max_abs_diff: float


@contextlib.contextmanager
def _native_output_silenced():
    """Silence what the C++ library writes to stdout/stderr (oneDNN pass notes on the first run)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [devnull]:
            os.close(fd)


def _predictor(prefix: str, threads: int):
    import paddle.inference as pi
    model_file = prefix + ".json" if os.path.isfile(prefix + ".json") else prefix + ".pdmodel"
    config = pi.Config(model_file, prefix + ".pdiparams")
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(threads)
    config.disable_glog_info()
    predictor = pi.create_predictor(config)
    inp = predictor.get_input_handle(predictor.get_input_names()[0])
    out = predictor.get_output_handle(predictor.get_output_names()[0])

    def run(x: np.ndarray) -> np.ndarray:
        inp.copy_from_cpu(x)
        predictor.run()
        return out.copy_to_cpu()
    return run


def _jit_module(prefix: str):
    loaded = paddle.jit.load(prefix)
    loaded.eval()

    def run(x: np.ndarray) -> np.ndarray:
        with paddle.no_grad():
            y = loaded(paddle.to_tensor(x))
        return (y[0] if isinstance(y, (list, tuple)) else y).numpy()
    return run


def time_exported(prefix: str, input_shape: tuple[int, ...], repeats: int = 50, warmup: int = 5,
                  threads: int = 1, seed: int = 0) -> tuple[np.ndarray, str]:
    """Time a model saved by ``paddle.jit.save`` at ``prefix``.

    Args:
        prefix: path prefix of the saved program (``<prefix>.json`` or ``.pdmodel``, ``<prefix>.pdiparams``).
        input_shape: the input shape, batch first (batch 1 for latency).
        repeats: timed runs.
        warmup: untimed runs first.
        threads: CPU math threads of the predictor.
        seed: seed of the random input.

    Returns:
        The ``repeats`` wall times in milliseconds and the backend used
        (``paddle.inference`` or ``paddle.jit.load``).
    """
    if repeats < 1 or warmup < 0 or threads < 1:
        raise ValueError(f"repeats and threads must be >= 1 and warmup >= 0, got {repeats}, {threads}, {warmup}")
    x = np.random.RandomState(seed).standard_normal(input_shape).astype("float32")
    try:
        with _native_output_silenced():
            run, backend = _predictor(prefix, threads), "paddle.inference"
            run(x)
    except Exception:  # noqa: BLE001 - an inference-library failure of any kind: time the jit module instead
        run, backend = _jit_module(prefix), "paddle.jit.load"
    for _ in range(warmup):
        run(x)
    times = np.empty(repeats)
    for i in range(repeats):
        t = time.perf_counter()
        run(x)
        times[i] = (time.perf_counter() - t) * 1e3
    return times, backend


def measure_latency(net: nn.Layer, out_dir: str, input_size: int, in_channels: int = 3, repeats: int = 50,
                    warmup: int = 5, threads: int = 1) -> LatencyResult:
    """Export ``net`` (reparameterised, in place) to ``out_dir`` and time batch-1 inference on the CPU.

    Args:
        net: the trained network (train form); it ends in its deploy form, in eval mode.
        out_dir: where the exported program goes (created).
        input_size: input height and width.
        in_channels: image channels.
        repeats: timed runs (the median is reported).
        warmup: untimed runs first.
        threads: CPU math threads.

    Returns:
        A :class:`LatencyResult`.

    Raises:
        paddle_tricks.export.ExportError: the network could not be exported, or the reloaded program does not
            reproduce the dygraph output.
    """
    from ..export import export_network
    res = export_network(net, out_dir, input_size=input_size, in_channels=in_channels)
    times, backend = time_exported(res.path_prefix, (1, in_channels, input_size, input_size), repeats=repeats,
                                   warmup=warmup, threads=threads)
    return LatencyResult(median_ms=float(np.median(times)), p10_ms=float(np.percentile(times, 10)),
                         p90_ms=float(np.percentile(times, 90)), repeats=repeats, threads=threads,
                         backend=backend, export_prefix=res.path_prefix, max_abs_diff=res.max_abs_diff)
