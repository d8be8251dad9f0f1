"""``apply_tricks(model, tricks)``: check the whole ``Arch.tricks`` mapping, then run each trick in order.

The trick table: each config key (a *slot*) has a function listing its types with their option defaults
and a function applying one type. The types themselves are registered by the layers and trick modules
(see docs/TRICKS.md, "Adding a trick").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import paddle.nn as nn

from .act import act_types, apply_act
from .attention import apply_attention, attention_types
from .conv3x3 import apply_conv3x3, conv3x3_types
from .downsample import apply_downsample, downsample_types
from .options import nearest, parse_options
from .probe import Context
from .regularize import DROP_BLOCK_OPTIONS, apply_drop_block, apply_dropout
from .report import TrickReport, TrickResult

__all__ = ["TRICK_ORDER", "SLOTS", "apply_tricks", "available_tricks"]

TRICK_ORDER = ("dropout", "downsample", "conv3x3", "act", "attention", "drop_block")
_SETTINGS = {"input_size": 224, "in_channels": None}


@dataclass(frozen=True)
class Slot:
    """One key of ``Arch.tricks``: its types (``{type: {option: default}}``) and how a type is applied."""

    types: Callable[[], dict[str, dict[str, Any]]]
    apply: Callable[[Context, str, dict, TrickResult], None]


SLOTS: dict[str, Slot] = {
    "dropout": Slot(lambda: {"p": {}}, apply_dropout),
    "downsample": Slot(downsample_types, apply_downsample),
    "conv3x3": Slot(conv3x3_types, apply_conv3x3),
    "act": Slot(act_types, apply_act),
    "attention": Slot(attention_types, apply_attention),
    "drop_block": Slot(lambda: {"dropblock": dict(DROP_BLOCK_OPTIONS)}, apply_drop_block),
}


def available_tricks() -> dict[str, dict[str, dict[str, Any]]]:
    """Every trick key with its types and their options (defaults); see docs/TRICKS.md.

    ``drop_block`` has one implicit type ``dropblock``; ``dropout`` takes a probability;
    ``input_size`` / ``in_channels`` are settings of the probe forward pass.
    """
    return {key: {t: dict(o) for t, o in SLOTS[key].types().items()} for key in TRICK_ORDER}


def _parse_typed(key: str, value: Any) -> tuple[str, dict]:
    types = SLOTS[key].types()
    if isinstance(value, str):
        kind, given = value, {}
    elif isinstance(value, dict):
        if "type" not in value:
            raise ValueError(f"tricks.{key}: a mapping needs a 'type' ({', '.join(sorted(types))})")
        given = dict(value)
        kind = given.pop("type")
    else:
        raise ValueError(f"tricks.{key} must be a type name or a mapping with a 'type', got {value!r}")
    if not isinstance(kind, str) or kind.lower() not in types:
        raise ValueError(f"tricks.{key}: unknown type '{kind}'; {nearest(str(kind).lower(), types)}")
    kind = kind.lower()
    return kind, parse_options(f"tricks.{key}={kind}", given, types[kind])


def _parse_setting(key: str, value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"tricks.{key} must be a positive integer, got {value!r}")
    return value


def _parse(tricks: Any) -> tuple[dict[str, tuple[str, dict]], dict]:
    """Validate the whole mapping before the model is touched: ``({trick: (type, options)}, settings)``."""
    if not isinstance(tricks, dict):
        raise TypeError(f"tricks must be a mapping of trick names to values, got {type(tricks).__name__}")
    plan: dict[str, tuple[str, dict]] = {}
    settings = dict(_SETTINGS)
    valid_keys = list(TRICK_ORDER) + list(_SETTINGS)
    for key, value in tricks.items():
        if key not in valid_keys:
            raise ValueError(f"unknown trick '{key}'; {nearest(key, valid_keys)}")
        if key in _SETTINGS:
            if _parse_setting(key, value) is not None:
                settings[key] = value
        elif value is None or value is False or (key == "dropout" and value == 0):
            continue
        elif key == "dropout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise ValueError(f"tricks.dropout must be a probability in (0, 1), got {value!r}")
            plan[key] = (f"{float(value):g}", {"p": float(value)})
        elif key == "drop_block":
            if value is True:
                value = {}
            if not isinstance(value, dict):
                raise ValueError(f"tricks.drop_block must be true or a mapping of options "
                                 f"({', '.join(DROP_BLOCK_OPTIONS)}), got {value!r}")
            plan[key] = ("dropblock", parse_options("tricks.drop_block", value, DROP_BLOCK_OPTIONS))
        else:
            plan[key] = _parse_typed(key, value)
    return plan, settings


def apply_tricks(model: nn.Layer, tricks: dict, log: Callable[[str], Any] | None = print) -> nn.Layer:
    """Switch ``tricks`` on for ``model`` (in place) and return it; docs/TRICKS.md describes the keys.

    Args:
        model: a network built from ConvBNAct units (any model of the zoo).
        tricks: ``{trick: type | {type: ..., option: ...} | null}``, plus the settings ``input_size``
            and ``in_channels`` of the probe forward pass.
        log: called with one line per trick (converted / skipped counts); ``None`` for silence.

    Returns:
        ``model``, changed in place; ``model.trick_report`` holds the :class:`TrickReport`.

    Raises:
        TypeError: ``tricks`` is not a mapping.
        ValueError: unknown trick, type or option (the message lists the valid ones) or a bad option value
            (raised before the model is touched), or a trick that finds nothing to convert in this model
            (the tricks before it in ``TRICK_ORDER`` are then already applied).
    """
    plan, settings = _parse(tricks)
    ctx = Context(model, settings)
    report = TrickReport(getattr(model, "trick_report", None) or [])
    for trick in TRICK_ORDER:
        if trick not in plan:
            continue
        kind, opts = plan[trick]
        res = TrickResult(trick, kind)
        SLOTS[trick].apply(ctx, kind, opts, res)
        if res.converted == 0:
            why = f" (skipped: {res.skip_summary()})" if res.skipped else ""
            raise ValueError(f"tricks.{trick}={kind} found nothing to convert in {type(model).__name__}{why}")
        report.append(res)
        if log is not None:
            log(res.line())
    object.__setattr__(model, "trick_report", report)
    return model
