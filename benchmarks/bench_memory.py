"""Page faults and step time of a CPU training step with ``keep_freed_memory()`` (the default) and without
(``PADDLE_TRICKS_MALLOC=default``): MobileNetV2 (paddle.vision, 16 classes) at 112 px, batch 32, Momentum.

The allocator setting is per process, so each run is a fresh subprocess; the two variants alternate (kept,
default, default, kept, ...) so load changes on the shared machine hit both alike. Each run takes warm-up
steps (the kept heap reaches its high-water mark in about 3), then times single steps and counts their minor
page faults (``getrusage``). The step-time ratio is
kept / default per pair of adjacent runs, with a bootstrap 95% CI over the steps of all pairs.

    python benchmarks/bench_memory.py [--pairs 3 --steps 3 --warmup 4]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bench_ema import bootstrap_ci, cpu_model  # noqa: E402
from paddle_tricks.utils.memory import MALLOC_SWITCH  # noqa: E402

VARIANTS = {"kept": None, "default": "default"}   # variant -> PADDLE_TRICKS_MALLOC


def worker(steps: int, warmup: int, size: int, batch: int) -> dict:
    """Train ``warmup + steps`` steps in this process; the timed steps' seconds and minor faults."""
    from paddle_tricks.utils.console import quiet
    from paddle_tricks.utils.memory import keep_freed_memory
    quiet()
    kept = keep_freed_memory()
    import paddle
    from paddle.vision.models import mobilenet_v2

    paddle.seed(0)
    net = mobilenet_v2(num_classes=16)
    opt = paddle.optimizer.Momentum(0.01, parameters=net.parameters())
    images, labels = paddle.randn([batch, 3, size, size]), paddle.randint(0, 16, [batch, 1])
    seconds, faults = [], []
    for i in range(warmup + steps):
        f0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
        loss = paddle.nn.functional.cross_entropy(net(images), labels)
        loss.backward()
        opt.step()
        opt.clear_grad()
        float(loss)
        if i >= warmup:
            seconds.append(time.perf_counter() - t0)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {"kept": kept, "seconds": seconds, "faults": faults}


def run_variant(variant: str, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k != MALLOC_SWITCH}
    if VARIANTS[variant]:
        env[MALLOC_SWITCH] = VARIANTS[variant]
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--size", str(args.size), "--batch", str(args.batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.steps, args.warmup, args.size, args.batch)))
        return 0
    runs = {v: [] for v in VARIANTS}
    started = time.time()
    for pair in range(args.pairs):
        for variant in (list(VARIANTS) if pair % 2 == 0 else list(VARIANTS)[::-1]):
            runs[variant].append(run_variant(variant, args))
    assert all(r["kept"] for r in runs["kept"]) and not any(r["kept"] for r in runs["default"])
    print(f"MobileNetV2 at {args.size} px, batch {args.batch}: {args.pairs} pairs of runs, {args.steps} timed "
          f"steps each after {args.warmup}; {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {time.time() - started:.0f} s")
    for variant, rs in runs.items():
        secs, faults = np.concatenate([r["seconds"] for r in rs]), np.concatenate([r["faults"] for r in rs])
        print(f"{variant:8s} step {np.median(secs) * 1e3:7.0f} ms (median), minor faults per step "
              f"{np.median(faults):9.0f} (median), {faults.max():9.0f} (max)")
    # per step of a pair: kept / mean of the default run of that pair
    ratios = np.concatenate([np.asarray(k["seconds"]) / np.mean(d["seconds"])
                             for k, d in zip(runs["kept"], runs["default"])])
    per_pair = [np.mean(k["seconds"]) / np.mean(d["seconds"]) for k, d in zip(runs["kept"], runs["default"])]
    lo, hi = bootstrap_ci(ratios, np.mean)
    print(f"step time kept / default: {np.mean(ratios):.3f} [{lo:.3f}, {hi:.3f}]; per pair "
          + ", ".join(f"{r:.3f}" for r in per_pair))
    return 0


if __name__ == "__main__":
    sys.exit(main())
