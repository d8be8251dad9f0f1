"""Every component of a training run, built from a validated config in one place.

Order matters and is fixed here: the network first (a bad name, option or trick fails before any data is
read), then the data and the preflight check, then the EMA copy (in fp32, before ``Model.prepare``, where
AMP O2 would cast the network), the LR schedule, the optimizer, and ``paddle.Model``.
"""
from __future__ import annotations

from dataclasses import dataclass

import paddle
import paddle.nn as nn

from ..data.build import build_datasets, build_loader
from ..errors import CheckpointError, ConfigError
from ..losses.criteria import build_loss
from ..models import build_network
from ..optim.lr import build_lr_scheduler
from ..optim.optimizers import build_optimizer
from ..utils.console import paddle_stderr_hidden
from ..utils.seed import seed_everything
from .checkpoint import load_weights
from .data_parallel import parallel_recipe
from .device import amp_configs
from .ema import ModelEMA
from .metrics import MeanCrossEntropy
from .preflight import preflight

__all__ = ["Components", "build_components", "grad_scaler"]


@dataclass
class Components:
    """What ``build_components`` makes; the ``Trainer`` runs them."""
    network: nn.Layer
    train_set: object
    eval_set: object
    classes: list
    train_loader: object
    eval_loader: object
    ema: ModelEMA | None
    lr: paddle.optimizer.lr.LRScheduler
    optimizer: paddle.optimizer.Optimizer
    amp: dict | None
    model: paddle.Model


def build_components(cfg: dict, device: str, log=print) -> Components:
    """Model, data, EMA, LR schedule, optimizer and ``paddle.Model`` (prepared) for ``cfg``.

    Args:
        cfg: a validated config.
        device: the device ``select_device`` chose (AMP is only passed on a GPU).
        log: where the one-line AMP notice goes.
    """
    g, d = cfg["Global"], cfg["Data"]
    seed = g["seed"]
    seed_everything(seed)
    network = build_network(cfg)
    if cfg["Arch"]["pretrained"]:
        try:
            load_weights(network, cfg["Arch"]["pretrained"])
        except CheckpointError as e:
            raise CheckpointError(f"Arch.pretrained: {e}") from None

    train_set, eval_set = build_datasets(d, seed=seed)
    classes = list(getattr(train_set, "classes", []) or [])
    if classes and len(classes) != cfg["Arch"]["num_classes"]:
        raise ConfigError(f"Arch.num_classes={cfg['Arch']['num_classes']} but the dataset has "
                          f"{len(classes)} classes")
    preflight(network, train_set, eval_set, cfg)
    seed_everything(seed)

    recipe = parallel_recipe(d, cfg["LR"], paddle.distributed.get_world_size())
    if recipe.world_size > 1:
        log(recipe.rule)
    train_loader = build_loader(train_set, recipe.batch_size, train=True, num_workers=d["num_workers"], seed=seed,
                                duplicate=cfg["Loss"]["rdrop_alpha"] > 0, prefetch=d["prefetch"])
    eval_loader = build_loader(eval_set, d["eval_batch_size"] or recipe.batch_size, train=False,
                               num_workers=d["num_workers"], seed=seed, prefetch=d["prefetch"])

    e = cfg["EMA"]
    ema = ModelEMA(network, e["decay"], e["warmup"], interval=e.get("interval", 1)) if e["enable"] else None
    lr = build_lr_scheduler(recipe.lr, len(train_loader), g["epochs"])
    optimizer = build_optimizer(cfg["Optimizer"], network, lr)
    amp = amp_configs(cfg["AMP"], device, log=log)
    with paddle_stderr_hidden():       # in a multi-process job hapi initialises the parallel env again
        model = paddle.Model(network)
    top_k = min(5, cfg["Arch"]["num_classes"])
    metrics = [paddle.metric.Accuracy(topk=(1, top_k)), MeanCrossEntropy()]
    model.prepare(optimizer, build_loss(cfg["Loss"]), metrics=metrics, amp_configs=amp)
    if amp is not None:
        _attach_grad_scaler(model, paddle.amp.GradScaler(**{k: v for k, v in amp.items() if k != "level"}))
    return Components(network, train_set, eval_set, classes, train_loader, eval_loader, ema, lr, optimizer, amp,
                      model)


# ``paddle.Model`` has no public accessor for its AMP loss scaler: hapi's DynamicGraphAdapter keeps it in
# ``Model._scaler`` and creates it lazily at the first batch (``if self.model._scaler is None``). Creating it
# here lets a resume restore the loss scale before the first step and the skip counter watch it from step 1.
# These two functions are the only places that touch the private name; tests/test_builder.py checks hapi
# still uses it.
def _attach_grad_scaler(model: paddle.Model, scaler) -> None:
    model._scaler = scaler


def grad_scaler(model: paddle.Model):
    """The ``paddle.amp.GradScaler`` that ``model`` trains with, or ``None`` without AMP."""
    return getattr(model, "_scaler", None)
