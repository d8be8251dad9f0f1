"""The ``act`` trick: replace activation layers by any activation of the ``create_act`` registry.

Its types are the registered activations that declare ``trick_options`` (see
:func:`paddle_tricks.layers.create_act.register_act`), so a new activation file is a new type here.
"""
from __future__ import annotations

from typing import Any

import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.create_act import ACTIVATIONS, create_act, replaceable_activations
from .probe import Context
from .report import TrickResult
from .surgery import PostOps, replace, units, unit_width, walk

__all__ = ["act_types", "apply_act"]


def act_types() -> dict[str, dict[str, Any]]:
    """``{type: {option: default}}``: the registered activations the trick can put in, plus ``only``."""
    out = {}
    for name in ACTIVATIONS:
        options = ACTIVATIONS.entry(name).info["trick_options"]
        if options is not None:
            out[name] = {**options, "only": None}
    return out


def _targets(ctx: Context, is_target) -> list[tuple[nn.Layer, str, int | str]]:
    """``(parent, name, channels or the reason they are unknown)`` of every activation to replace.

    A unit's activation has the unit's width; any other (after a residual add) the probe's input width.
    """
    targets: list[tuple[nn.Layer, str, int | str]] = []
    seen: set[int] = set()
    for _, _, unit, _ in units(ctx.model):
        c = unit_width(unit)
        c = c if c is not None else "unknown unit width"
        slot = unit.act.named_children() if isinstance(unit.act, PostOps) else [("act", unit.act)]
        parent = unit.act if isinstance(unit.act, PostOps) else unit
        for n, layer in slot:
            if is_target(layer):
                targets.append((parent, n, c))
                seen.add(id(layer))
    for parent, name, layer, _ in walk(ctx.model):
        if is_target(layer) and id(layer) not in seen and not isinstance(parent, ConvBNAct):
            targets.append((parent, name, ctx.probe.in_channels(layer)))
    return targets


def apply_act(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    kinds_of = replaceable_activations()
    wanted = opts["only"] or set(kinds_of.values())
    options = {k: v for k, v in opts.items() if k != "only"}

    def is_target(layer):
        return kinds_of.get(type(layer)) in wanted

    for parent, name, channels in _targets(ctx, is_target):
        if isinstance(channels, str):
            res.skip(channels)
            continue
        try:
            new = create_act(kind, channels=channels, **options)
        except ValueError as e:
            res.skip(str(e))
            continue
        replace(parent, name, new)
        res.converted += 1
