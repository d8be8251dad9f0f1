"""Resume is exact or refused: a resumed run trains on the config saved with it.

``resumed_config`` rebuilds the run's config from the one in its checkpoint plus the ``-o`` overrides given
with ``--resume``. An override may change only what cannot alter the result (``RESULT_NEUTRAL``: device,
workers, logging, where the folder now is); ``Global.epochs`` may grow, with a notice of how the LR schedule is
re-planned. Anything else is refused with the list of changed keys.
"""
from __future__ import annotations

import copy

from ..config import apply_overrides, parse_overrides, validate
from ..errors import ConfigError

__all__ = ["RESULT_NEUTRAL", "config_changes", "resumed_config"]

RESULT_NEUTRAL = frozenset({"Global.device", "Global.verbose", "Global.log_freq", "Global.resume",
                            "Global.output_dir", "Data.num_workers", "Data.prefetch", "VisualDL.enable"})


def _flat(cfg: dict) -> dict:
    return {f"{sec}.{k}": v for sec, keys in cfg.items() if isinstance(keys, dict) for k, v in keys.items()}


def config_changes(old: dict, new: dict) -> dict:
    """``{'Section.key': (old, new)}`` for every key whose value differs (a missing key counts as ``<absent>``)."""
    a, b = _flat(old), _flat(new)
    return {k: (a.get(k, "<absent>"), b.get(k, "<absent>")) for k in sorted(set(a) | set(b))
            if a.get(k, "<absent>") != b.get(k, "<absent>")}


def _listed(changes: dict, limit: int = 8) -> str:
    items = [f"{k}: {o!r} -> {n!r}" for k, (o, n) in changes.items()]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


def resumed_config(saved: dict, overrides: list[str], output_dir: str, epochs_done: int,
                   given: dict | None = None, log=print) -> dict:
    """The config a resumed run trains on.

    Args:
        saved: the config saved with the run (its checkpoint's).
        overrides: the ``-o Section.key=value`` given with ``--resume``.
        output_dir: the run folder (it may have moved since it was saved).
        epochs_done: the epochs the checkpoint has finished.
        given: the config the command line named (``-c`` plus ``-o``); where it differs from ``saved``, a note
            says the saved one is used.
        log: where the notices go.
    """
    try:
        # keys added to the schema since the run was saved take their defaults, which keep the old behaviour
        saved = validate(copy.deepcopy(saved))
        cfg = validate(apply_overrides(copy.deepcopy(saved), parse_overrides(overrides)))
    except ConfigError as e:
        raise ConfigError(f"--resume: the run's saved config with the -o overrides is not valid: {e}") from None
    cfg["Global"]["output_dir"] = output_dir
    changes = {k: v for k, v in config_changes(saved, cfg).items() if k not in RESULT_NEUTRAL}
    epochs = changes.pop("Global.epochs", None)
    if epochs is not None and epochs[1] < epochs[0]:
        changes["Global.epochs"] = epochs
    if changes:
        raise ConfigError(f"--resume continues a run with the config saved in it, and {len(changes)} override(s) "
                          f"would change its result: {_listed(changes)}. Only {', '.join(sorted(RESULT_NEUTRAL))} "
                          f"may change, and Global.epochs may grow; for anything else start a new run (another "
                          f"Global.output_dir)")
    if epochs is not None:
        log(f"note: Global.epochs {epochs[0]} -> {epochs[1]}: the LR schedule ({cfg['LR']['name']}) is re-planned "
            f"over {epochs[1]} epochs and continues from the step where epoch {epochs_done} ended, so the learning "
            f"rate follows the {epochs[1]}-epoch curve from there (under a cosine schedule it rises again)")
    if given is not None:
        ignored = {k: v for k, v in config_changes(cfg, given).items() if k not in RESULT_NEUTRAL}
        if ignored:
            log(f"note: the config given differs from the run's saved config in {len(ignored)} key(s) "
                f"({', '.join(ignored)}); the saved config is used, change keys with -o")
    return cfg
