"""The dataset registry: ``Data.dataset`` names an entry, ``Data.options`` is checked against its options.

A dataset module registers a builder ``(root, options, train_transform, eval_transform, seed) ->
(train_set, eval_set)`` with ``@register_dataset("name", options={...})``, declaring each option as a typed,
bounded ``utils.schema.Key``. ``paddle_tricks.data`` imports every module of the package, so a new dataset
is one file (plus its test) and ``Data.dataset`` accepts it at once.
"""
from __future__ import annotations

from typing import Callable

from ..errors import ConfigError
from ..utils.registry import Registry
from ..utils.schema import Key, check_options

__all__ = ["DATASETS", "register_dataset", "dataset_options", "check_dataset_options"]

DATASETS = Registry("dataset", "paddle_tricks.data.DATASETS")


def register_dataset(name: str, options: dict[str, Key] | None = None,
                     check: Callable[[dict], None] | None = None):
    """Decorator registering a dataset builder under ``name``.

    Args:
        name: the ``Data.dataset`` value.
        options: option name -> ``Key`` (type, bounds, default) accepted in ``Data.options``.
        check: called with the checked options to test their combination (for example a memory budget);
            raises ``ValueError`` with the reason.
    """
    return DATASETS.register(name, options=dict(options or {}), check=check)


def dataset_options(name: str) -> dict[str, Key]:
    """Option name -> ``Key`` of dataset ``name``."""
    return dict(DATASETS.entry(name).info["options"])


def check_dataset_options(name: str, options: dict, where: str = "Data.options") -> dict:
    """Check ``options`` for dataset ``name`` key by key, then together; raises ``ConfigError``."""
    checked = check_options(options, dataset_options(name), where, f"the {name} dataset")
    combined = DATASETS.entry(name).info["check"]
    if combined is not None:
        try:
            combined(checked)
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None
    return checked
