"""``create_act``: every activation of the package by name, from one registry (cf. timm ``create_act.py``).

An activation layer registers itself in its own file with :func:`register_act`; ``ConvBNAct(act=...)``,
the model constructors, the gates of attention modules and the ``act`` trick of :mod:`paddle_tricks.tricks`
all build activations through :func:`create_act`, so a new activation needs no other edit. Entries that
declare ``trick_options`` are types of the ``act`` trick (gates such as ``sigmoid`` are not).
"""
from __future__ import annotations

from typing import Any, Callable

import paddle.nn as nn

from ..utils.registry import Registry

__all__ = ["ACTIVATIONS", "register_act", "create_act", "replaceable_activations", "act_aliases"]

ACTIVATIONS = Registry("activation", hint="see paddle_tricks.layers.create_act")


def register_act(name: str, *, channels: bool = False, trick_options: dict[str, Any] | None = None,
                 alias_of: str | None = None, **kwargs) -> Callable[[type], type]:
    """Decorator: register an activation layer class under ``name``.

    Args:
        name: the name configs and constructors use (lower case).
        channels: the constructor takes the channel count first (DY-ReLU, ACON).
        trick_options: the options (with their defaults) the ``act`` trick accepts for this type;
            ``None``: not a type of the ``act`` trick (gates).
        alias_of: ``name`` is another name of this registered activation (``hswish`` of ``hardswish``).
        **kwargs: fixed constructor arguments (e.g. the slope of ``leaky_relu``).
    """
    return ACTIVATIONS.register(name, channels=channels, trick_options=trick_options, alias_of=alias_of,
                                kwargs=kwargs)


def create_act(act: str | Callable[[], nn.Layer] | None, channels: int | None = None, **kwargs) -> nn.Layer:
    """An activation layer from a registered name, a factory (called without arguments) or ``None``.

    Args:
        act: name (``'relu'``, ``'hswish'``, ``'dyrelu_b'``, ...), zero-argument factory, or ``None`` /
            ``False`` for ``nn.Identity``.
        channels: channel count, required by channel-wise activations (DY-ReLU, ACON).
        **kwargs: constructor options of the named activation (``reduction=4`` for DY-ReLU).

    Raises:
        ValueError: unknown name (the message lists the registered ones), or no ``channels`` for a
            channel-wise activation.
    """
    if act is None or act is False:
        return nn.Identity()
    if not isinstance(act, str):
        return act()
    name = act.lower()
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{act}'; choose one of {sorted(ACTIVATIONS)}")
    entry = ACTIVATIONS.entry(name)
    args = {**entry.info["kwargs"], **kwargs}
    if not entry.info["channels"]:
        return entry.obj(**args)
    if channels is None:
        raise ValueError(f"activation '{name}' is channel-wise: pass channels=")
    return entry.obj(channels, **args)


def act_aliases() -> dict[str, str]:
    """``{alias: name}`` of the registered activations (``{'hswish': 'hardswish'}``)."""
    return {n: ACTIVATIONS.entry(n).info["alias_of"] for n in ACTIVATIONS if ACTIVATIONS.entry(n).info["alias_of"]}


def replaceable_activations() -> dict[type, str]:
    """``{layer class: name}`` of the plain (not channel-wise) activations the ``act`` trick replaces."""
    out: dict[type, str] = {}
    for name in ACTIVATIONS:
        info = ACTIVATIONS.entry(name).info
        if info["trick_options"] is not None and not info["channels"] and not info["alias_of"]:
            out.setdefault(ACTIVATIONS.get(name), name)
    return out


_PLAIN = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hardswish": nn.Hardswish, "swish": nn.Swish, "silu": nn.Silu,
          "mish": nn.Mish, "gelu": nn.GELU, "elu": nn.ELU}
for _name, _cls in _PLAIN.items():
    register_act(_name, trick_options={})(_cls)
register_act("hswish", trick_options={}, alias_of="hardswish")(nn.Hardswish)
register_act("leaky_relu", trick_options={}, negative_slope=0.1)(nn.LeakyReLU)
register_act("sigmoid")(nn.Sigmoid)
