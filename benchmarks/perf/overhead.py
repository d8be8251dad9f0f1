"""Trainer overhead per step and at the end of an epoch.

The Trainer (``paddle.Model`` train step plus its callbacks: progress, seeding, loss guard, EMA, VisualDL) and a
bare dygraph loop (forward, loss, backward, optimizer step, clear_grad, LR step) train two copies of the same
starting weights on the same pre-decoded batches. ``Trainer.fit`` reads its batches from ``PairedBatches``,
which runs the bare step on each batch just before handing it to the Trainer (even steps) or just after the
Trainer's step returns (odd steps), so single steps of the two alternate. A Trainer step is the time from
handing the batch over to the next request (hapi's ``train_batch`` and every batch callback). The first
``warmup`` pairs of each epoch are not counted.

The Trainer's cost per step hardly depends on the batch (hapi's bookkeeping, metrics of one batch, callbacks,
EMA over the same weights), while the step itself does: at batch 32 the pairs' noise (a few % of a 2-second step)
is as large as the overhead sought. So the same network and optimizer also train a fixed-cost run, batch 2 at
32 px, where a step takes tens of ms: the median per-pair difference (Trainer - bare) in ms, with its CI, set
against the bare Caltech-16 step, gives the overhead at batch 32 to a fraction of a per cent.

The epoch-end extra is the time from the last batch of an epoch to the next request (or the end of ``fit``),
less the evaluation (timed and taken out: it is the end-to-end section's business): weight checks, best and
last checkpoint, metrics file, VisualDL. It is reported per epoch, and as the overhead of a whole Caltech-16
epoch: (steps x Trainer step + extra) / (steps x bare step).
"""
from __future__ import annotations

import dataclasses
import math
import tempfile
import time

import numpy as np

from .stats import bootstrap, derived_ratio, ms, paired_ratio
from .workload import Sizes, caltech_config, describe

CALTECH16_TRAIN_IMAGES = 1447


class PairedBatches:
    """A train loader for ``Trainer.fit`` that runs one bare step beside each Trainer step (see the module)."""

    def __init__(self, batches: list, steps: int, bare_step, sampler):
        self.batches, self.steps, self.bare_step = batches, steps, bare_step
        self.epoch_sampler = sampler
        self.bare, self.trainer = [], []     # per epoch: a list of step seconds
        self.epoch_ends = []                 # (last step finished, next request) times
        self.finished = None

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        if self.finished is not None:
            self.epoch_ends.append((self.finished, time.perf_counter()))
        bare, trainer = [], []
        self.bare.append(bare)
        self.trainer.append(trainer)
        for i in range(self.steps):
            batch = self.batches[i % len(self.batches)]
            if i % 2 == 0:
                bare.append(self.bare_step(batch))
            handed = time.perf_counter()
            yield batch
            trainer.append(time.perf_counter() - handed)
            if i % 2 == 1:
                bare.append(self.bare_step(batch))
        self.finished = time.perf_counter()


def bare_loop(cfg: dict, network_state: dict, steps_per_epoch: int):
    """A step function of the plain dygraph loop: ``step((images, labels)) -> seconds``."""
    from paddle_tricks.losses import build_loss
    from paddle_tricks.models import build_network
    from paddle_tricks.optim import build_lr_scheduler, build_optimizer

    network = build_network(cfg)
    network.set_state_dict(network_state)
    network.train()
    lr = build_lr_scheduler(cfg["LR"], steps_per_epoch, cfg["Global"]["epochs"])
    optimizer = build_optimizer(cfg["Optimizer"], network, lr)
    criterion = build_loss(cfg["Loss"])

    def step(batch) -> float:
        images, labels = batch
        start = time.perf_counter()
        loss = criterion(network(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        lr.step()
        return time.perf_counter() - start
    return step


def measure(sizes: Sizes, data_root: str, lr_scale: float = 1.0) -> dict:
    from paddle_tricks.engine.data_parallel import SCALED_LR_KEYS
    from paddle_tricks.engine.trainer import Trainer

    with tempfile.TemporaryDirectory(prefix="perf_overhead_") as out:
        cfg = caltech_config(sizes, out, data_root, train_images=sizes.overhead_steps * sizes.batch,
                             eval_images=sizes.eval_images)
        cfg["Global"]["epochs"] = sizes.overhead_epochs
        cfg["LR"].update({k: cfg["LR"][k] * lr_scale for k in SCALED_LR_KEYS})
        trainer = Trainer(cfg, log=lambda *_: None, warn=lambda *_: None)
        batches = [list(b) for b, _ in zip(trainer.train_loader, range(min(8, sizes.overhead_steps)))]
        step = bare_loop(cfg, trainer.network.state_dict(), sizes.overhead_steps)
        paired = PairedBatches(batches, sizes.overhead_steps, step, trainer.train_loader.epoch_sampler)
        trainer.train_loader = paired
        trainer.steps_per_epoch = paired.steps
        evals = []
        original_evaluate = trainer.evaluate

        def evaluate(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original_evaluate(*args, **kwargs)
            finally:
                evals.append((start, time.perf_counter()))
        trainer.evaluate = evaluate
        trainer.fit()
        paired.epoch_ends.append((paired.finished, time.perf_counter()))
    w = sizes.warmup
    bare = np.concatenate([e[w:] for e in paired.bare])
    full = np.concatenate([e[w:] for e in paired.trainer])
    extras = [(end - start) - sum(b - a for a, b in evals if start <= a <= end)
              for start, end in paired.epoch_ends]
    return {"bare": bare, "trainer": full, "extras": np.asarray(extras), "evals": len(evals),
            "epochs": sizes.overhead_epochs, "steps": sizes.overhead_steps}


FIXED_COST_IMAGE, FIXED_COST_BATCH = 32, 2


def fixed_cost(sizes: Sizes, data_root: str) -> dict:
    """``measure`` at batch 2 and 32 px: the Trainer's per-step cost with the step's own noise made small."""
    small = dataclasses.replace(sizes, image=min(FIXED_COST_IMAGE, sizes.image),
                                batch=min(FIXED_COST_BATCH, sizes.batch), overhead_epochs=2,
                                overhead_steps=sizes.fixed_cost_steps)
    return measure(small, data_root, lr_scale=1e-3)   # BN over 2 images at 1x1 diverges at the config's rate


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    r = measure(sizes, data_root)
    f = fixed_cost(sizes, data_root)
    step = paired_ratio(r["trainer"], r["bare"])
    extra = f["trainer"] - f["bare"]                      # seconds, per pair
    extra_low, extra_high = bootstrap(np.median, extra)
    via_fixed = derived_ratio(lambda d, bare: 1 + np.median(d) / np.median(bare), extra, r["bare"],
                              pairs=len(extra))
    per_epoch = math.ceil(CALTECH16_TRAIN_IMAGES / sizes.batch)

    def epoch_ratio(step_ratios, bare, extras):
        return np.median(step_ratios) + np.median(extras) / (per_epoch * np.median(bare))
    epoch = derived_ratio(epoch_ratio, r["trainer"] / r["bare"], r["bare"], r["extras"], pairs=len(r["bare"]))
    lines = [
        f"{describe(sizes)}; {r['epochs']} epochs of {r['steps']} paired steps, the first {sizes.warmup} of each "
        f"epoch not counted; EMA and VisualDL on, {sizes.eval_images} evaluation images (evaluation timed "
        f"apart and left out).",
        "",
        "| loop | median ms/step |",
        "|---|--:|",
        f"| bare dygraph loop (forward, loss, backward, step, clear_grad, LR step) | {ms(r['bare'])} |",
        f"| Trainer (`paddle.Model.train_batch` + its callbacks) | {ms(r['trainer'])} |",
        "",
        f"- Trainer / bare loop, per step: {step}",
        f"- fixed cost: at batch {FIXED_COST_BATCH} and {FIXED_COST_IMAGE} px (same network, optimizer, EMA and "
        f"callbacks; {f['epochs']} epochs of {f['steps']} paired steps, bare step {ms(f['bare'])} ms) the Trainer "
        f"step takes {np.median(extra) * 1e3:.1f} (95% CI {extra_low * 1e3:.1f} to {extra_high * 1e3:.1f}, "
        f"{len(extra)} pairs) ms more than the bare one (median per-pair difference); over the bare "
        f"step at batch {sizes.batch} above, Trainer / bare loop: {via_fixed}",
        f"- epoch-end extra (checks, checkpoint, best weights, metrics, VisualDL; no evaluation): "
        f"{ms(r['extras'])} ms per epoch (median of {len(r['extras'])} epochs)",
        f"- Trainer / bare loop over a Caltech-16 epoch ({per_epoch} steps plus the epoch-end extra): {epoch}",
    ]
    return "\n".join(lines), [step, via_fixed, epoch]
