"""Learning-rate schedules and optimizers, each in a registry (``LR_SCHEDULES``, ``OPTIMIZERS``)."""
from .lr import LR_SCHEDULES, build_lr_scheduler
from .optimizers import OPTIMIZERS, build_optimizer, split_decay_params

__all__ = ["LR_SCHEDULES", "build_lr_scheduler", "OPTIMIZERS", "build_optimizer", "split_decay_params"]
