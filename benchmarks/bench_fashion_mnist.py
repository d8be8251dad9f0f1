"""Training throughput of the Fashion-MNIST configs (configs/fashion_mnist/) on this machine.

For each config: its model, input size (from the config's Resize, else 28), batch size, loss and optimizer
(plain SGD at the config's learning rate); random 1-channel images and labels already in memory, so the
number is the model's training speed (forward + loss + backward + optimizer step), not the data pipeline's.
After ``--warmup`` steps, ``--chunks`` chunks are timed, each of at least ``--steps`` steps and at least
``--min-seconds`` seconds (so a fast model is not timed over a few milliseconds); the table gives the median
chunk's images per second (and the min/max over chunks). Prints one Markdown table with the machine, date and
command, and writes it (plus JSON) when ``--out`` is given.

    OMP_NUM_THREADS=1 python benchmarks/bench_fashion_mnist.py --out output/fashion_mnist_bench
    python benchmarks/bench_fashion_mnist.py --threads 2 --configs lenet lenet_bn --min-seconds 5
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(ROOT, "configs", "fashion_mnist")
ALL = ["lenet", "lenet_bn", "alexnet", "vgg11_small", "nin", "googlenet", "resnet18", "densenet"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=ALL, choices=ALL, help="config names (default: all)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")),
                   help="OpenMP / MKL threads (default: $OMP_NUM_THREADS or 1)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--steps", type=int, default=1, help="minimum steps per timed chunk")
    p.add_argument("--min-seconds", type=float, default=3.0, help="minimum duration of a timed chunk")
    p.add_argument("--chunks", type=int, default=3, help="timed chunks (the median is reported)")
    p.add_argument("--batch-size", type=int, default=None, help="override every config's batch size")
    p.add_argument("--out", default=None, help="write <out>.md and <out>.json")
    return p.parse_args(argv)


def input_size(cfg: dict) -> int:
    """The square input size the config's train transforms produce (28 = Fashion-MNIST's own)."""
    for t in cfg["Data"]["train_transforms"]:
        if isinstance(t, dict) and "Resize" in t:
            size = t["Resize"]["size"]
            return int(size[0] if isinstance(size, (list, tuple)) else size)
    return 28


def bench_one(name: str, args) -> dict:
    import numpy as np
    import paddle

    from paddle_tricks.config import load_config
    from paddle_tricks.losses import build_loss
    from paddle_tricks.optim import build_lr_scheduler
    from paddle_tricks.optim import build_optimizer
    from paddle_tricks.models import build_network
    from paddle_tricks.utils.complexity import count_params

    cfg = load_config(os.path.join(CONFIG_DIR, f"{name}.yaml"))
    size, batch = input_size(cfg), args.batch_size or cfg["Data"]["batch_size"]
    paddle.seed(0)
    net = build_network(cfg)
    net.train()
    opt = build_optimizer(cfg["Optimizer"], net, build_lr_scheduler(cfg["LR"], 100, cfg["Global"]["epochs"]))
    loss_fn = build_loss(cfg["Loss"])
    rng = np.random.RandomState(0)
    x = paddle.to_tensor(rng.rand(batch, 1, size, size).astype("float32"))
    y = paddle.to_tensor(rng.randint(0, 10, size=(batch, 1)).astype("int64"))

    def step():
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        return float(loss)  # synchronises

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.chunks):
        t0, n = time.perf_counter(), 0
        while n < args.steps or time.perf_counter() - t0 < args.min_seconds:
            step()
            n += 1
        rates.append(batch * n / (time.perf_counter() - t0))
    return {"config": name, "model": cfg["Arch"]["name"], "input": size, "batch": batch,
            "params_M": round(count_params(net) / 1e6, 3), "img_per_s": round(statistics.median(rates), 1),
            "min": round(min(rates), 1), "max": round(max(rates), 1)}


def machine_info(threads: int) -> str:
    import paddle
    from paddle_tricks.utils.machine import cpu_model
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu_model()}, {os.cpu_count()} logical cores, {threads} thread(s); "
            f"Python {platform.python_version()}, Paddle {paddle.__version__}; "
            f"load average at the end (1/5/15 min): {load}")


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before paddle is imported
    os.environ.setdefault("MKL_NUM_THREADS", str(args.threads))
    sys.path.insert(0, ROOT)
    import warnings
    warnings.filterwarnings("ignore", message="No ccache found")
    import paddle
    paddle.set_device("cpu")
    rows = []
    for name in args.configs:
        r = bench_one(name, args)
        rows.append(r)
        print(f"{name}: {r['img_per_s']} img/s", file=sys.stderr, flush=True)
    cmd = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    lines = [f"Training throughput (forward + backward + SGD step, synthetic batch in memory), "
             f"median of {args.chunks} timed chunks (each >= {args.steps} step(s) and >= {args.min_seconds:g} s) "
             f"after {args.warmup} warm-up step(s).",
             "",
             f"- Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
             f"- Machine: {machine_info(args.threads)}",
             f"- Command: `{cmd}`",
             "",
             "| config | model | input | batch | params (M) | img/s (median) | min-max |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['model']} | {r['input']} | {r['batch']} | {r['params_M']} | "
                     f"{r['img_per_s']} | {r['min']}-{r['max']} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out + ".md", "w") as f:
            f.write(text + "\n")
        with open(args.out + ".json", "w") as f:
            json.dump({"command": cmd, "machine": machine_info(args.threads), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
