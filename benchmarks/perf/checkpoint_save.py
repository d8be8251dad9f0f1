"""Checkpoint save: ``Checkpointer.save`` (portable optimizer keys, safetensors, atomic rename) and
``Checkpointer.save_best`` against ``paddle.save`` of the same state, single saves alternating (the order
swaps every pair) after warm-up saves, into the same folder."""
from __future__ import annotations

import os
import tempfile
import time

from .stats import ms, paired_ratio
from .workload import Sizes, caltech_config


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def alternate(a, b, rounds: int, warmup: int) -> tuple[list, list]:
    """Seconds of ``rounds`` single calls of ``a`` and of ``b``, alternating ABBA after ``warmup`` calls of each."""
    for _ in range(warmup):
        a(), b()
    times_a, times_b = [], []
    for r in range(rounds):
        if r % 2 == 0:
            times_a.append(timed(a))
            times_b.append(timed(b))
        else:
            times_b.append(timed(b))
            times_a.append(timed(a))
    return times_a, times_b


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    import paddle
    from paddle_tricks.engine.checkpoint import Checkpointer, Progress
    from paddle_tricks.engine.ema import ModelEMA
    from paddle_tricks.models import build_network
    from paddle_tricks.optim import build_lr_scheduler, build_optimizer

    with tempfile.TemporaryDirectory(prefix="perf_save_") as out:
        cfg = caltech_config(sizes, out, data_root)
        network = build_network(cfg)
        optimizer = build_optimizer(cfg["Optimizer"], network, build_lr_scheduler(cfg["LR"], 10, 1))
        ema = ModelEMA(network, cfg["EMA"]["decay"])
        images = paddle.randn([2, 3, sizes.image, sizes.image])
        network(images).mean().backward()      # one step, so the optimizer has its accumulators
        optimizer.step()
        optimizer.clear_grad()
        ema.update(network)
        progress = Progress(1, {"metric": "ema_top1", "value": 0.5, "epoch": 1}, [{"epoch": 1, "eval_top1": 0.5}])
        checkpointer = Checkpointer(out, network, optimizer, ema=ema)
        plain = os.path.join(out, "plain.pdparams")

        def paddle_save_checkpoint():
            paddle.save({"model": network.state_dict(), "optimizer": optimizer.state_dict(),
                         "ema": ema.state_dict(), "epoch": 1, "history": progress.history}, plain)

        def paddle_save_best():
            paddle.save(network.state_dict(), plain)
            paddle.save(ema.weights(), plain + ".ema")

        save = alternate(lambda: checkpointer.save(progress, cfg), paddle_save_checkpoint, sizes.save_rounds,
                         sizes.warmup)
        best = alternate(lambda: checkpointer.save_best(progress.best, progress.history[-1]), paddle_save_best,
                         sizes.save_rounds, sizes.warmup)
    ratios = [paired_ratio(*save), paired_ratio(*best)]
    lines = [f"MobileNetV2 (16 classes) with its Momentum state and EMA; {sizes.save_rounds} saves of each after "
             f"{sizes.warmup} warm-up saves, on {out.rsplit('/', 1)[0]}'s file system.", "",
             "| save | suite, median ms | `paddle.save`, median ms | suite / `paddle.save` |", "|---|--:|--:|--:|",
             f"| checkpoint (`Checkpointer.save`) | {ms(save[0])} | {ms(save[1])} | {ratios[0]} |",
             f"| best weights + EMA weights (`Checkpointer.save_best`) | {ms(best[0])} | {ms(best[1])} | {ratios[1]} |"]
    return "\n".join(lines), ratios
