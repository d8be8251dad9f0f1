"""EMA update time on MobileNetV2 (paddle.vision, 1000 classes, 262 tensors): the old per-tensor update,
``ModelEMA.update`` and the floor (one ``lerp_`` over a flat fp32 buffer holding as many values).

The three run side by side in one process: each round times one call of each, in a rotating order, after
warm-up calls of all three. Figures are medians over the rounds with a bootstrap 95% CI (rounds resampled).

    python benchmarks/bench_ema.py [--rounds 200]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from paddle_tricks.utils.console import quiet  # noqa: E402
from paddle_tricks.utils.machine import cpu_model  # noqa: E402


def bootstrap_ci(samples: np.ndarray, statistic, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of ``statistic`` over rows of ``samples`` resampled with replacement."""
    rng = np.random.default_rng(seed)
    stats = [statistic(samples[rng.integers(0, len(samples), len(samples))]) for _ in range(n)]
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


class OldEMA:
    """The update before the fused version: state_dict(), then astype, 3 kernels and set_value per tensor."""

    def __init__(self, net):
        import paddle
        self.shadow = {k: v.astype("float32").clone() for k, v in net.state_dict().items()
                       if v.dtype == paddle.float32}

    def update(self, net, d=0.9999):
        state = net.state_dict()
        for k, e in self.shadow.items():
            e.set_value(e * d + state[k].detach().astype("float32") * (1.0 - d))


def measure(rounds: int = 200, warmup: int = 10) -> dict:
    """Seconds per update of each variant, one row per round: {'names': [...], 'times': array rounds x 3}."""
    import paddle
    from paddle.vision.models import mobilenet_v2
    from paddle_tricks.engine.ema import ModelEMA

    net = mobilenet_v2()
    values = sum(int(v.numel()) for v in net.state_dict().values())
    old, new = OldEMA(net), ModelEMA(net, 0.9999, warmup=False)
    flat_ema, flat_model = paddle.zeros([values]), paddle.ones([values])
    weight = paddle.full([], 1e-4)
    variants = {
        "old (state_dict, per-tensor kernels)": lambda: old.update(net),
        "ModelEMA.update": lambda: new.update(net),
        "floor (one lerp_ over a flat buffer)": lambda: flat_ema.lerp_(flat_model, weight),
    }
    names, calls = list(variants), list(variants.values())
    times = np.zeros((rounds, len(calls)))
    with paddle.no_grad():
        for _ in range(warmup):
            for call in calls:
                call()
        for r in range(rounds):
            for i in np.roll(np.arange(len(calls)), r):
                start = time.perf_counter()
                calls[i]()
                times[r, i] = time.perf_counter() - start
    return {"names": names, "times": times, "tensors": len(net.state_dict()), "values": values}


def report(result: dict) -> str:
    times, names = result["times"], result["names"]
    lines = [f"EMA update, MobileNetV2 ({result['tensors']} tensors, {result['values']:,} values), "
             f"{len(times)} rounds; {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"{'variant':40s} {'median ms':>10s}  95% CI"]
    for i, name in enumerate(names):
        lo, hi = bootstrap_ci(times[:, i], np.median)
        lines.append(f"{name:40s} {np.median(times[:, i]) * 1e3:10.2f}  [{lo * 1e3:.2f}, {hi * 1e3:.2f}]")
    floor = len(names) - 1
    for i in range(floor):
        def ratio(rows, i=i):
            return np.median(rows[:, i]) / np.median(rows[:, floor])
        lo, hi = bootstrap_ci(times, ratio)
        lines.append(f"{names[i]} / floor: {ratio(times):.2f}  [{lo:.2f}, {hi:.2f}]")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    quiet()
    print(report(measure(args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
