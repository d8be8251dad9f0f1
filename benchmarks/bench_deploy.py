"""Images per second of one network in dygraph, paddle.inference and ONNX Runtime, side by side.

    python benchmarks/bench_deploy.py [--models mobilenet_v2,asymmnet_large] [--size 224] [--batches 1,16]
                                      [--rounds 5] [--seconds 3] [--threads N]

Each network (16 classes, BN statistics calibrated on random images so activations are trained-like) runs in
one process three ways, through the backends of ``paddle-tricks infer`` (:mod:`paddle_tricks.infer.backends`):

* dygraph: the network as trained (not fused), in eval mode, as ``paddle-tricks infer -m RUN`` runs it;
* paddle.inference: the ``paddle-tricks export --format paddle`` program (BN folded), IR optimisation on;
* ONNX Runtime: the ``paddle-tricks export --format onnx`` model (BN folded).

Both exports are checked against dygraph (max abs difference printed). After a warm-up, ``--rounds`` rounds
alternate the three (the order rotates each round) so load from other processes hits all alike; each round
times each backend for about ``--seconds / --rounds`` seconds. The table gives the median images/s over the
rounds. Prints a Markdown report with the CPU model, the date and the command.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import os
import shlex
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from paddle_tricks.utils.machine import cpu_model  # noqa: E402


def calibrated(name: str, size: int):
    """``create_model(name)`` whose BN running statistics are the batch statistics of random images."""
    import numpy as np
    import paddle
    from paddle_tricks.models import create_model
    net = create_model(name, num_classes=16)
    bns = [m for m in net.sublayers() if isinstance(m, paddle.nn.BatchNorm2D)]
    for m in bns:
        m._momentum = 0.0
    net.train()
    with paddle.no_grad():
        net(paddle.to_tensor(np.random.RandomState(0).standard_normal((8, 3, size, size)).astype("float32")))
    for m in bns:
        m._momentum = 0.9
    net.eval()
    return net


def images_per_second(backend, x, seconds: float) -> float:
    """Run ``backend(x)`` repeatedly for about ``seconds`` (at least twice); images per second."""
    runs, start = 0, time.perf_counter()
    while runs < 2 or time.perf_counter() - start < seconds:
        backend(x)
        runs += 1
    return runs * x.shape[0] / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mobilenet_v2,asymmnet_large", help="comma-separated model names")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--batches", default="1,16", help="comma-separated batch sizes")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds (median over them)")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per backend and batch size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per backend and batch size")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads of every backend")
    args = parser.parse_args(argv)
    command = "python benchmarks/bench_deploy.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import paddle
    from paddle_tricks.export import export_network
    from paddle_tricks.infer.backends import DygraphBackend, OnnxBackend, PaddleInferenceBackend

    paddle.set_device("cpu")
    batches = [int(b) for b in args.batches.split(",")]
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows, checks = [], []
    with tempfile.TemporaryDirectory(prefix="bench_deploy_") as tmp:
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            net = calibrated(name, args.size)
            backends = {"dygraph": DygraphBackend(net)}
            for fmt in ("paddle", "onnx"):
                res = export_network(copy.deepcopy(net), os.path.join(tmp, f"{name}_{fmt}"), input_size=args.size,
                                     fmt=fmt)
                checks.append(f"{name} {fmt}: max abs diff vs dygraph {res.max_abs_diff:.2g}")
                backends[res.runtime] = (PaddleInferenceBackend(res.path_prefix, args.threads) if fmt == "paddle"
                                         else OnnxBackend(res.path_prefix + ".onnx", args.threads))
            labels = list(backends)
            for batch in batches:
                x = np.random.RandomState(1).standard_normal((batch, 3, args.size, args.size)).astype("float32")
                for backend in backends.values():
                    for _ in range(args.warmup):
                        backend(x)
                speeds = {label: [] for label in labels}
                for r in range(args.rounds):
                    for label in labels[r % len(labels):] + labels[:r % len(labels)]:
                        speeds[label].append(images_per_second(backends[label], x, args.seconds / args.rounds))
                med = {label: float(np.median(v)) for label, v in speeds.items()}
                rows.append((name, batch, med))
                print(f"{name} batch {batch}: " + ", ".join(f"{k} {v:.1f} img/s" for k, v in med.items()),
                      file=sys.stderr)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"### Inference speed on the CPU ({args.size}x{args.size}, images/s, median of {args.rounds} rounds)\n")
    print(f"- date: {started}; CPU: {cpu_model()}, {os.cpu_count()} logical cores, {args.threads} thread(s); "
          f"Paddle {paddle.__version__}; load average {load:.2f} at start, {load_end:.2f} at end")
    print(f"- command: `{command}`")
    print("- checks: " + "; ".join(checks) + "\n")
    print("| model | batch | dygraph | paddle.inference | ONNX Runtime | ONNX Runtime / paddle.inference |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, batch, med in rows:
        ratio = med["onnxruntime"] / med["paddle.inference"]
        print(f"| {name} | {batch} | {med['dygraph']:.1f} | {med['paddle.inference']:.1f} | "
              f"{med['onnxruntime']:.1f} | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
