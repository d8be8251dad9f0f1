"""Data parallel that trains the recipe of the config: the batch size and learning rate per process.

``Data.batch_size_is`` says what ``Data.batch_size`` counts when ``W`` processes train together
(``python -m paddle.distributed.launch --nproc_per_node W`` or ``--gpus``):

* ``global`` (default): the batch of one optimizer step over all processes. Each process takes
  ``batch_size / W`` samples and the learning rate is the config's, so the run follows the single-process
  recipe step for step (the same global batch, schedule and number of steps per epoch).
* ``per_process``: each process takes ``batch_size`` samples, the global batch is ``W * batch_size`` and the
  learning rates (``base_lr``, ``warmup_start_lr``, ``eta_min``) are multiplied by ``W``: the linear scaling
  rule of Goyal et al., "Accurate, Large Minibatch SGD" (arXiv 1706.02677), with ``W`` times fewer steps.

With one process both read the config as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["ParallelRecipe", "parallel_recipe", "SCALED_LR_KEYS"]

SCALED_LR_KEYS = ("base_lr", "warmup_start_lr", "eta_min")


@dataclass
class ParallelRecipe:
    """What one of ``world_size`` processes trains with."""
    world_size: int
    batch_size: int          # per process
    lr: dict                 # the LR section, scaled for ``per_process``
    rule: str                # one line saying the above, printed at start by rank 0

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size


def parallel_recipe(data_cfg: dict, lr_cfg: dict, world_size: int) -> ParallelRecipe:
    """The per-process batch and the learning rates for ``world_size`` processes (see the module doc)."""
    batch, mode = data_cfg["batch_size"], data_cfg["batch_size_is"]
    if world_size <= 1:
        return ParallelRecipe(1, batch, dict(lr_cfg), "one process: batch and learning rate as configured")
    if mode == "global":
        if batch % world_size:
            raise ConfigError(f"Data.batch_size={batch} is the global batch (Data.batch_size_is: global) and must "
                              f"divide among {world_size} processes; use a multiple of {world_size}, or "
                              f"Data.batch_size_is: per_process")
        per = batch // world_size
        return ParallelRecipe(world_size, per, dict(lr_cfg),
                              f"data parallel over {world_size} processes: global batch {batch} = {world_size} x "
                              f"{per} per process, learning rate as configured ({lr_cfg['base_lr']:g}) "
                              f"(Data.batch_size_is: global, the single-process recipe)")
    scaled = {**lr_cfg, **{k: lr_cfg[k] * world_size for k in SCALED_LR_KEYS}}
    return ParallelRecipe(world_size, batch, scaled,
                          f"data parallel over {world_size} processes: {batch} per process, global batch "
                          f"{batch * world_size}, learning rate x{world_size} ({lr_cfg['base_lr']:g} -> "
                          f"{scaled['base_lr']:g}, linear scaling rule) (Data.batch_size_is: per_process)")
