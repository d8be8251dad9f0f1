"""Image transforms built from config, using ``paddle.vision.transforms``.

A config lists transforms as ``{Name: {args}}`` (or a bare ``Name``), applied in order. Images are decoded
by Pillow as uint8 RGB; ``Transpose`` (HWC → CHW) keeps uint8 and ``Normalize`` converts to float32 once,
so ``mean``/``std`` are given in 0–255 pixel units. Any class of ``paddle.vision.transforms`` may be named.
"""
from __future__ import annotations

import difflib
import inspect

import paddle.vision.transforms as T

from ..errors import ConfigError

__all__ = ["build_transforms", "available_transforms", "QuietCompose"]


def available_transforms() -> list[str]:
    """Names of the transform classes a config may use."""
    return sorted(n for n, obj in vars(T).items()
                  if inspect.isclass(obj) and issubclass(obj, T.BaseTransform) and obj is not T.BaseTransform)


def _build_one(spec, where: str):
    if isinstance(spec, str):
        name, args = spec, {}
    else:
        (name, args), = spec.items()
        args = {} if args is None else args
    names = available_transforms()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(names)}"
        raise ConfigError(f"{where}: unknown transform '{name}'; {hint}")
    if not isinstance(args, dict):
        raise ConfigError(f"{where}: the arguments of {name} must be a mapping, got {args!r}")
    cls = getattr(T, name)
    valid = [p for p in inspect.signature(cls).parameters if p not in ("self", "keys")]
    for k in args:
        if k not in valid:
            raise ConfigError(f"{where}: {name} takes no argument '{k}'; it takes {', '.join(valid)}")
    try:
        return cls(**args)
    except (TypeError, ValueError, AssertionError) as e:
        raise ConfigError(f"{where}: {name}({args}) is invalid: {e}") from None


class QuietCompose(T.Compose):
    """``paddle.vision.transforms.Compose`` without its print: Paddle's prints the full traceback of a
    failing step to stdout before re-raising; here the error is only raised, for the caller to report."""

    def __call__(self, data):
        for step in self.transforms:
            data = step(data)
        return data


def build_transforms(specs: list, where: str = "Data.transforms") -> QuietCompose:
    """A ``Compose`` of the listed transforms; a bad name or argument raises ``ConfigError``."""
    return QuietCompose([_build_one(s, f"{where}[{i}]") for i, s in enumerate(specs)])
