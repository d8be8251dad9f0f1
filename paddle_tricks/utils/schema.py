"""Typed keys for configs and option tables: a check, a description, a default, a meaning.

``paddle_tricks.config`` builds its schema from these helpers, and every dataset and model declares its
options with them, so ``Data.options`` and ``Arch.options`` are checked like any other key: an unknown key
or a bad value is a ``ConfigError`` that names it (``Data.options.image_size must be ...``).
"""
from __future__ import annotations

import difflib
import math
import reprlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..errors import ConfigError

__all__ = ["UnknownOptionError", "BadOptionError", "Key", "pos_int", "nonneg_int", "int_range", "num", "boolean",
           "string", "choice", "mapping", "sequence", "is_int", "is_num", "shown", "nearest", "check_options"]

_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 60, 60, 3


def shown(value: Any) -> str:
    """A short ``repr`` for messages (a huge or deeply nested value is abbreviated, never expanded)."""
    return _SHORT.repr(value)


class UnknownOptionError(ConfigError, TypeError):
    """An option the thing configured does not take (a ``TypeError``, like an unexpected keyword)."""


class BadOptionError(ConfigError, ValueError):
    """An option value of the wrong type or out of its bounds."""


@dataclass(frozen=True)
class Key:
    """One key: a type check, a description of what it accepts (text or a function giving it), a default."""

    check: Callable[[Any], bool]
    describe: str | Callable[[], str]
    default: Any
    help: str = ""

    @property
    def kind(self) -> str:
        """What the key accepts, e.g. "a positive integer" (computed now for names from a registry)."""
        return self.describe() if callable(self.describe) else self.describe


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def pos_int(default, help="", optional=False):
    return Key(lambda v: (optional and v is None) or (is_int(v) and v > 0),
               "a positive integer" + (" or null" if optional else ""), default, help)


def nonneg_int(default, help=""):
    return Key(lambda v: is_int(v) and v >= 0, "an integer >= 0", default, help)


def int_range(default, lo: int, hi: int, help="", optional=False):
    """An integer from ``lo`` to ``hi`` inclusive (or null when ``optional``)."""
    return Key(lambda v: (optional and v is None) or (is_int(v) and lo <= v <= hi),
               f"an integer from {lo} to {hi}" + (" or null" if optional else ""), default, help)


def num(default, help="", lo=None, hi=None, lo_open=False, hi_open=False, optional=False):
    def check(v):
        if v is None:
            return optional
        if not is_num(v) or not math.isfinite(v):
            return False
        if lo is not None and (v < lo or (lo_open and v == lo)):
            return False
        if hi is not None and (v > hi or (hi_open and v == hi)):
            return False
        return True
    lo_s = "" if lo is None else f"{'>' if lo_open else '>='} {lo}"
    hi_s = "" if hi is None else f"{'<' if hi_open else '<='} {hi}"
    rng = " and ".join(s for s in (lo_s, hi_s) if s)
    return Key(check, "a number" + (f" {rng}" if rng else "") + (" or null" if optional else ""), default, help)


def boolean(default, help=""):
    return Key(lambda v: isinstance(v, bool), "true or false", default, help)


def string(default, help="", optional=False):
    return Key(lambda v: isinstance(v, str) or (optional and v is None),
               "a string" + (" or null" if optional else ""), default, help)


def choice(default, options: Iterable | Callable[[], Iterable], help="", optional=False):
    """One of ``options``; a function (e.g. ``registry.names``) is asked each time, so late entries count."""
    def current():
        return list(options() if callable(options) else options)
    return Key(lambda v: (optional and v is None) or (_hashable(v) and v in current()),
               lambda: "one of " + ", ".join(str(o) for o in current()) + (" or null" if optional else ""),
               default, help)


def _hashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def mapping(help=""):
    return Key(lambda v: isinstance(v, dict), "a mapping", {}, help)


def sequence(default, help="", item=None, kind="a list"):
    return Key(lambda v: isinstance(v, list) and (item is None or all(item(i) for i in v)), kind, default, help)


def nearest(name: str, candidates) -> str:
    """"; did you mean 'x'?" for the closest candidate, else the list of candidates."""
    candidates = list(candidates)
    close = difflib.get_close_matches(str(name), candidates, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(candidates) or 'none'}"


def check_options(options: dict, spec: dict[str, Key], where: str, owner: str) -> dict:
    """Check ``options`` against ``spec``; returns them with ints given for float keys made floats.

    Args:
        options: the user's mapping (``Data.options``, ``Arch.options``).
        spec: option name -> ``Key``.
        where: the config path of the mapping, e.g. ``"Data.options"``.
        owner: what takes the options, e.g. ``"the quickstart dataset"``.

    Raises:
        UnknownOptionError: naming ``where.key`` for a key ``spec`` lacks.
        BadOptionError: naming ``where.key`` for a value of the wrong type or out of range.
    """
    if not isinstance(options, dict):
        raise BadOptionError(f"{where} must be a mapping, got {shown(options)}")
    out = {}
    for k, v in options.items():
        if k not in spec:
            valid = ", ".join(spec) or "none"
            close = difflib.get_close_matches(str(k), list(spec), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UnknownOptionError(f"{where}.{k} is not an option of {owner}{hint} (valid: {valid})")
        key = spec[k]
        value = float(v) if isinstance(key.default, float) and is_int(v) else v
        if not key.check(value):
            raise BadOptionError(f"{where}.{k} must be {key.kind}, got {shown(v)} ({owner})")
        out[k] = value
    return out
