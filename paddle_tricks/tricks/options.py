"""Validation of trick options: every value is checked before the model is touched."""
from __future__ import annotations

import difflib
import re
from typing import Any

from ..layers.blurpool import PAD_MODES
from ..layers.create_act import act_aliases, replaceable_activations

__all__ = ["nearest", "parse_options", "parse_stages"]


def nearest(name: str, valid) -> str:
    """``"did you mean 'x'? valid: a, b, x"``: the closest valid name (if any) and all of them, sorted."""
    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(valid)}"


def parse_stages(where: str, value: Any) -> int | None:
    """``'all'`` → None; ``'lastN'`` or ``N`` → N (the N smallest output resolutions)."""
    if value == "all":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"last(\d+)", value)
        if m and int(m.group(1)) >= 1:
            return int(m.group(1))
    raise ValueError(f"{where}: stages must be 'all', 'lastN' (N >= 1) or a positive integer, got {value!r}")


def _parse_only(where: str, value: Any) -> set[str] | None:
    """The ``only`` option of the ``act`` trick: activation names → their canonical names."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    aliases = act_aliases()
    kinds = set(replaceable_activations().values()) | set(aliases)
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise ValueError(f"{where}: only must be an activation name or a list of them, got {value!r}")
    for i in items:
        if i.lower() not in kinds:
            raise ValueError(f"{where}: unknown activation '{i}' in only; {nearest(i.lower(), kinds)}")
    return {aliases.get(i.lower(), i.lower()) for i in items}


_RANGES = {  # option name -> (check, message)
    "keep_prob": (lambda v: 0.0 < v <= 1.0, "must be in (0, 1]"),
    "ratio": (lambda v: 0.0 < v < 1.0, "must be in (0, 1)"),
    "filt_size": (lambda v: 1 <= v <= 7, "must be in 1..7"),
}


def _check_option(where: str, key: str, value: Any, default: Any) -> Any:
    if key == "stages":
        return parse_stages(where, value)
    if key == "only":
        return _parse_only(where, value)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    elif isinstance(default, float) or default is None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok or (default is None and value is None)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        kind = {bool: "true or false", int: "a positive integer", float: "a number", str: "a string"}.get(
            type(default), "a number or null")
        raise ValueError(f"{where}: {key} must be {kind}, got {value!r}")
    if key in _RANGES and not _RANGES[key][0](value):
        raise ValueError(f"{where}: {key} {_RANGES[key][1]}, got {value}")
    if key == "pad_type" and value not in PAD_MODES:
        raise ValueError(f"{where}: unknown pad_type '{value}'; {nearest(value, PAD_MODES)}")
    return value


def parse_options(where: str, given: dict, defaults: dict) -> dict:
    """``defaults`` updated with the checked ``given`` options; an unknown option names the valid ones."""
    for k in given:
        if k not in defaults:
            raise ValueError(f"{where}: unknown option '{k}'; {nearest(k, list(defaults) or ['(none)'])}")
    out = {}
    for k, d in defaults.items():
        out[k] = _check_option(where, k, given.get(k, d), d) if k in given or k in ("stages", "only") else d
    return out
