"""``build_network(cfg)``: the model of a config's ``Arch`` section, with its tricks applied."""
from __future__ import annotations

from typing import Any, Callable

import paddle.nn as nn

from ..errors import ConfigError
from ..utils.messages import one_line
from .registry import create_model

__all__ = ["build_network"]


def build_network(cfg: dict, log: Callable[[str], Any] | None = print) -> nn.Layer:
    """The model of the ``Arch`` section, with its tricks applied; a bad name or option is a ConfigError.

    ``log`` gets one line per trick (what it converted); ``None`` builds silently."""
    arch = cfg["Arch"]
    try:
        net = create_model(arch["name"], num_classes=arch["num_classes"], **arch["options"])
    except KeyError as e:  # unknown model name
        raise ConfigError(f"Arch.name: {e}") from None
    except (TypeError, ValueError, AssertionError, ZeroDivisionError) as e:
        msg = one_line(e) or type(e).__name__
        raise ConfigError(f"Arch.options: {msg}" + ("" if arch["name"] in msg else f" (model '{arch['name']}')")) \
            from None
    if arch["tricks"]:
        from ..tricks import apply_tricks  # imported here: the surgery imports the models
        try:
            net = apply_tricks(net, arch["tricks"], log=log)
        except (KeyError, TypeError, ValueError, AssertionError) as e:
            msg = one_line(e) or type(e).__name__
            raise ConfigError(f"Arch.{msg}" if msg.startswith("tricks.") else f"Arch.tricks: {msg}") from None
    return net
