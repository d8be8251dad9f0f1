"""Model registry: ``register_model`` / ``create_model`` / ``list_models``.

Every model family module decorates its public constructors with ``@register_model``;
a config names the model by that function name (``Arch.name``).
"""
from __future__ import annotations

import difflib
import fnmatch
import inspect
from typing import Callable

import paddle.nn as nn

_MODELS: dict[str, Callable[..., nn.Layer]] = {}


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


def register_model(fn: Callable[..., nn.Layer]) -> Callable[..., nn.Layer]:
    """Register ``fn`` under its own name; returns ``fn`` unchanged."""
    name = fn.__name__
    if name in _MODELS and _MODELS[name] is not fn:
        raise ValueError(f"model '{name}' is registered twice")
    _MODELS[name] = fn
    return fn


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a glob pattern."""
    names = sorted(_MODELS)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def get_model_fn(name: str) -> Callable[..., nn.Layer]:
    """The constructor registered as ``name``; a clear error with the nearest names otherwise."""
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model '{name}'{hint} (list them with paddle_tricks.models.list_models())")
    return _MODELS[name]


def create_model(name: str, num_classes: int = 1000, **kwargs) -> nn.Layer:
    """Build the registered model ``name`` with ``num_classes`` outputs.

    Extra keyword arguments go to the constructor; an argument it does not take is
    reported with the arguments it does take.
    """
    fn = get_model_fn(name)
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = [k for k in kwargs if k not in params]
        if unknown:
            valid = sorted(k for k in params if k != "num_classes")
            raise TypeError(
                f"model '{name}' takes no argument {', '.join(repr(k) for k in unknown)}; "
                f"it takes: {', '.join(valid)}")
    return fn(num_classes=num_classes, **kwargs)
