"""The options of a model constructor, read from its signature, with bounds that keep a build in memory.

``signature_options(fn)`` turns each keyword parameter of ``fn`` (type hint and default) into a typed
``Key``; ``OPTION_BOUNDS`` narrows the options every family shares (``width_mult``, ``in_channels``,
``input_size``, ``dropout``), so ``Arch.options: {width_mult: 1000}`` is refused before a layer is built
instead of ending in a MemoryError.
"""
from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Callable

from ..layers.create_act import ACTIVATIONS
from ..layers.create_attn import ATTENTIONS
from ..utils.schema import Key, boolean, int_range, is_int, num, string

__all__ = ["OPTION_BOUNDS", "signature_options"]

# Bounds of the options several families share. Each keeps a single build under about 1 GB of fp32 weights:
# - width_mult <= 4: parameters grow with width², and AsymmNet-L / MobileNetV2 (6 M / 3.5 M at 1.0) reach
#   about 100 M at 4 (0.4 GB, 1.2 GB with gradients and momentum); 1000 would ask for terabytes.
# - input_size <= 256: the fully connected head of AlexNet / VGG is sized from it; VGG-16's first FC
#   layer has 8·8·512·4096 = 134 M weights at 256 px, and 4x that at 512 px.
# - in_channels <= 64: images have 1, 3 or 4 channels; 64 leaves room for stacked inputs.
# - widths (hidden, width, growth_rate, ...) at most twice the largest any published variant uses.
OPTION_BOUNDS: dict[str, Key] = {
    "width_mult": num(1.0, "width multiplier", lo=0, hi=4, lo_open=True),
    "input_size": int_range(224, 8, 256, "input side the fully connected head is sized for", optional=True),
    "in_channels": int_range(3, 1, 64, "image channels"),
    "dropout": num(0.0, "dropout probability", lo=0, hi=1, hi_open=True),
    "drop_rate": num(0.0, "dropout probability", lo=0, hi=1, hi_open=True),
    "compression": num(0.5, "DenseNet transition compression", lo=0, hi=1, lo_open=True),
    "hidden": int_range(4096, 1, 8192, "width of the hidden fully connected layers"),
    "width": int_range(32, 1, 512, "channels of the first stage"),
    "growth_rate": int_range(32, 1, 128, "DenseNet growth rate"),
    "bn_size": int_range(4, 1, 8, "DenseNet bottleneck factor"),
    "base_width": int_range(64, 1, 256, "ResNet bottleneck base width"),
    "stem_width": int_range(32, 1, 128, "deep-stem width"),
    "groups": int_range(1, 1, 128, "grouped-convolution groups"),
    "radix": int_range(2, 1, 8, "split-attention radix"),
    "num_branches": int_range(2, 1, 8, "SK branches"),
    # names are looked up when checked, so an activation or attention registered later is accepted too
    "act": Key(lambda v: isinstance(v, str) and v.lower() in ACTIVATIONS,
               lambda: "an activation name: " + ", ".join(ACTIVATIONS.names()), "relu", "activation"),
    "attn_layer": Key(lambda v: v is None or v is False or (isinstance(v, str) and v.lower() in ATTENTIONS),
                      lambda: "null or an attention name: " + ", ".join(ATTENTIONS.names()), None,
                      "attention module on each residual branch"),
}

_NOT_OPTIONS = ("self", "num_classes", "block_kwargs")


def _key_for(annotation: Any, default: Any) -> Key:
    """A ``Key`` from a type hint (``int``, ``float``, ``bool``, ``str``, ``X | None``); anything else: any value."""
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = typing.get_args(annotation) if is_union else ()
    optional = type(None) in args
    kinds = [a for a in args if a is not type(None)] if args else [annotation]
    if len(kinds) == 1:
        kind = kinds[0]
        if kind is bool:
            return boolean(default)
        if kind is int:
            return Key(lambda v: (optional and v is None) or is_int(v),
                       "an integer" + (" or null" if optional else ""), default)
        if kind is float:
            return num(default, optional=optional)
        if kind is str:
            return string(default, optional=optional)
    if annotation is inspect.Parameter.empty and isinstance(default, bool):
        return boolean(default)
    return Key(lambda v: True, "any value", default)


def _hints(fn: Callable) -> dict:
    target = fn.__init__ if inspect.isclass(fn) else fn
    try:
        return typing.get_type_hints(target)
    except Exception:  # a hint that cannot be resolved (a forward reference): fall back to "any value"
        return {}


def signature_options(fn: Callable, only: tuple[str, ...] | None = None) -> dict[str, Key]:
    """Option name -> ``Key`` for the keyword parameters of ``fn`` (a function or a class).

    Parameters without a default (``block``, ``layers``), ``num_classes`` and ``**kwargs`` are not options.
    ``only`` keeps just the named parameters. Shared names take their bounds from ``OPTION_BOUNDS``.
    """
    hints = _hints(fn)
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if (p.default is p.empty or name in _NOT_OPTIONS or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                or (only is not None and name not in only)):
            continue
        key = OPTION_BOUNDS.get(name) or _key_for(hints.get(name, p.annotation), p.default)
        out[name] = Key(key.check, key.describe, p.default, key.help)
    return out
