"""``create_attn``: channel-attention modules by name, from one registry (cf. timm ``create_attn.py``).

An attention layer (``channels -> channels``, same shape in and out) registers itself in its own file
with :func:`register_attn`. The model constructors (``attn_layer='se'`` of the ResNets) and the
``attention`` trick of :mod:`paddle_tricks.tricks` both build through :func:`create_attn`, so
``create_model('resnet18', attn_layer='nam')`` and ``Arch.tricks: {attention: nam}`` take the same names.
"""
from __future__ import annotations

from typing import Any, Callable

import paddle.nn as nn

from ..utils.registry import Registry

__all__ = ["ATTENTIONS", "register_attn", "create_attn"]

ATTENTIONS = Registry("attention layer", hint="see paddle_tricks.layers.create_attn")


def register_attn(name: str, **trick_options: Any) -> Callable[[type], type]:
    """Decorator: register an attention layer class (constructor ``(channels, **options)``) as ``name``.

    ``trick_options`` are the options (with defaults) the ``attention`` trick accepts for this type.
    """
    return ATTENTIONS.register(name, trick_options=trick_options)


def create_attn(attn: str | Callable[[int], nn.Layer] | None, channels: int, **kwargs) -> nn.Layer:
    """An attention layer for ``channels``: a registered name (``'se'``, ``'nam'``), a factory
    ``channels -> nn.Layer``, or ``None`` / ``False`` (``nn.Identity``).

    Raises:
        ValueError: unknown name; the message lists the registered ones.
    """
    if attn is None or attn is False:
        return nn.Identity()
    if not isinstance(attn, str):
        return attn(channels)
    name = attn.lower()
    if name not in ATTENTIONS:
        raise ValueError(f"unknown attention layer '{attn}'; choose one of {sorted(ATTENTIONS)} or pass a factory")
    return ATTENTIONS.get(name)(channels, **kwargs)
