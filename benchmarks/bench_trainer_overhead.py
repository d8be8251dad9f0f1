"""Trainer overhead: ``Trainer`` (paddle.Model + EMA + VisualDL + LR logging + checkpoints) against a bare
dygraph loop on the same model, the same batches and the same optimizer, side by side in one run.

    python benchmarks/bench_trainer_overhead.py [-c configs/quickstart.yaml] [--rounds 3] [--steps 20]

Each round times one epoch of ``--steps`` batches in each form, alternating; the median time per step is
reported. The trainer's epoch includes its end-of-epoch work (history, checkpoint, best weights) but not
evaluation, which the bare loop does not have either.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

from paddle_tricks.config import load_config  # noqa: E402
from paddle_tricks.optim import build_lr_scheduler  # noqa: E402
from paddle_tricks.optim import build_optimizer  # noqa: E402
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.models import build_network  # noqa: E402


def bare_epoch(network, optimizer, scheduler, batches) -> float:
    network.train()
    start = time.perf_counter()
    for images, labels in batches:
        loss = F.cross_entropy(network(images), labels.reshape([-1]))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        scheduler.step()
    return (time.perf_counter() - start) / len(batches)


def trainer_epoch(trainer, batches) -> float:
    trainer.train_loader = batches
    trainer.steps_per_epoch = len(batches)
    trainer.evaluate = lambda ema=False: {"loss": 0.0, "top1": 0.0, "top5": 0.0}   # no eval in either form
    trainer.start_epoch, trainer.history = 0, []
    start = time.perf_counter()
    trainer.fit()
    return (time.perf_counter() - start) / len(batches)


class _Batches(list):
    """Pre-decoded batches, iterable like a loader (same data for both forms)."""
    epoch_sampler = type("S", (), {"set_epoch": lambda self, e: None})()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/quickstart.yaml")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    out = tempfile.mkdtemp(prefix="bench_trainer_")
    cfg = load_config(args.config, [f"Global.output_dir={out}", "Global.epochs=1", "Global.verbose=0",
                                    "LR.name=Cosine", "LR.warmup_epochs=0"])
    cfg["EMA"]["enable"] = True
    cfg["VisualDL"]["enable"] = True
    trainer = Trainer(cfg, log=lambda *_: None)
    batches = _Batches()
    for images, labels in trainer.train_loader:
        batches.append((images, labels))
        if len(batches) == args.steps:
            break
    network = build_network(cfg)
    scheduler = build_lr_scheduler(cfg["LR"], len(batches), 1)
    optimizer = build_optimizer(cfg["Optimizer"], network, scheduler)
    bare_epoch(network, optimizer, scheduler, batches[:3])           # warm-up
    bare, full = [], []
    for _ in range(args.rounds):
        bare.append(bare_epoch(network, optimizer, scheduler, batches))
        full.append(trainer_epoch(trainer, batches))
    b, t = statistics.median(bare), statistics.median(full)
    print(f"# Trainer overhead ({datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, paddle {paddle.__version__})")
    print(f"command: python benchmarks/bench_trainer_overhead.py -c {args.config} --rounds {args.rounds} "
          f"--steps {args.steps}")
    print(f"model: {cfg['Arch']['name']} {cfg['Arch']['options']}, batch {cfg['Data']['batch_size']}, "
          f"{len(batches)} steps per epoch, EMA on, VisualDL every {cfg['Global']['log_freq']} steps, "
          f"checkpoint every epoch")
    print("| loop | median ms/step | all rounds (ms/step) |\n|---|---|---|")
    print(f"| bare dygraph loop | {b * 1e3:.1f} | {', '.join(f'{x * 1e3:.1f}' for x in bare)} |")
    print(f"| Trainer (paddle.Model + callbacks) | {t * 1e3:.1f} | {', '.join(f'{x * 1e3:.1f}' for x in full)} |")
    print(f"ratio trainer / bare: {t / b:.3f}")


if __name__ == "__main__":
    main()
