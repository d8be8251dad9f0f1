"""The surgery mechanism: walk a network, read a ConvBNAct unit, replace a layer. No trick lives here.

Conventions of the package the surgery relies on: convolutions are
:class:`~paddle_tricks.layers.conv_bn.ConvBNAct` units (``.conv``, ``.bn``, ``.act``), activations are
layers, and layers marked :class:`~paddle_tricks.layers.surgery_leaf.SurgeryLeaf` (tricks, attention
modules) are replaced whole or not at all. Layers are swapped with ``setattr`` on their parent, the public
way Paddle registers a sub-layer (as PaddleClas's ``TheseusLayer.upgrade_sublayer`` does).

Paddle's ``nn.Conv2D`` keeps its geometry only in private attributes (``_in_channels``, ``_kernel_size``,
``_stride``, ``_padding``, ...; no public ones exist): :func:`plain_conv` and :func:`restride` read them,
and ``tests/test_tricks.py`` fails if a Paddle release renames them (every conv trick converts nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.surgery_leaf import SurgeryLeaf

__all__ = ["walk", "replace", "is_unit", "units", "unit_width", "ConvGeometry", "plain_conv", "restride",
           "PostOps", "post_items", "set_post"]


def walk(layer: nn.Layer, prefix: str = "", into: Callable[[nn.Layer], bool] | None = None
         ) -> Iterator[tuple[nn.Layer, str, nn.Layer, str]]:
    """``(parent, name, child, path)`` for each sub-layer, depth-first in registration order.

    A :class:`SurgeryLeaf` is yielded but not entered; ``into(child)`` False also stops the descent.
    """
    for name, child in list(layer.named_children()):
        path = f"{prefix}.{name}" if prefix else name
        yield layer, name, child, path
        if not isinstance(child, SurgeryLeaf) and (into is None or into(child)):
            yield from walk(child, path, into)


def replace(parent: nn.Layer, name: str, new: nn.Layer) -> None:
    """Put ``new`` in the place of ``parent``'s sub-layer ``name`` (also the ``"0"`` of a Sequential)."""
    setattr(parent, name, new)


def is_unit(layer: nn.Layer) -> bool:
    """A ConvBNAct whose forward is the plain ``act(bn(conv(x)))`` (subclasses that change it are not)."""
    return isinstance(layer, ConvBNAct) and type(layer).forward is ConvBNAct.forward


def units(model: nn.Layer) -> list[tuple[nn.Layer, str, ConvBNAct, str]]:
    """Every ConvBNAct unit outside the leaves, as ``(parent, name, unit, path)``."""
    return [(p, n, c, path) for p, n, c, path in walk(model) if is_unit(c)]


def _int_attr(objs, attrs) -> int | None:
    for obj in objs:
        for attr in attrs:
            v = getattr(obj, attr, None)
            if isinstance(v, int) and not isinstance(v, bool):
                return v
    return None


def unit_width(unit: ConvBNAct) -> int | None:
    """The output channels of a unit, whatever its conv became (None if no part tells)."""
    return _int_attr((unit.bn, unit.conv, getattr(unit.conv, "conv", None)),
                     ("_num_features", "_out_channels", "out_channels"))


@dataclass
class ConvGeometry:
    """The geometry of a plain ``nn.Conv2D``."""

    cin: int
    cout: int
    k: int
    stride: int
    pad: int
    groups: int


def plain_conv(conv: nn.Layer) -> ConvGeometry | None:
    """Geometry of a plain, square, non-dilated, zero-padded NCHW conv; None for anything else."""
    if type(conv) is not nn.Conv2D or conv._data_format != "NCHW" or conv._padding_mode != "zeros":
        return None
    kh, kw = conv._kernel_size
    sh, sw = conv._stride
    if kh != kw or sh != sw or list(conv._dilation) != [1, 1]:
        return None
    p = conv._padding
    if isinstance(p, (list, tuple)) and len(p) == 2 and p[0] == p[1]:
        p = p[0]
    if not isinstance(p, int):
        return None
    return ConvGeometry(conv._in_channels, conv._out_channels, kh, sh, p, conv._groups)


def restride(conv: nn.Conv2D) -> nn.Conv2D:
    """A copy of ``conv`` with stride 1 (same weights, padding, groups)."""
    new = nn.Conv2D(conv._in_channels, conv._out_channels, conv._kernel_size, stride=1, padding=conv._padding,
                    dilation=conv._dilation, groups=conv._groups, padding_mode=conv._padding_mode,
                    bias_attr=False if conv.bias is None else None, data_format=conv._data_format)
    new.weight.set_value(conv.weight)
    if conv.bias is not None:
        new.bias.set_value(conv.bias)
    return new


class PostOps(nn.Sequential):
    """The layers after the BN of a ConvBNAct (its ``.act`` slot): activation, attention, blur, DropBlock."""


def post_items(unit: ConvBNAct) -> list[nn.Layer]:
    """The layers in the ``.act`` slot of ``unit`` (identities left out)."""
    act = unit.act
    items = list(act.children()) if isinstance(act, PostOps) else [act]
    return [i for i in items if not isinstance(i, nn.Identity)]


def set_post(unit: ConvBNAct, items: list[nn.Layer]) -> None:
    """Fill the ``.act`` slot of ``unit``: identity, one layer, or a :class:`PostOps` of several."""
    unit.act = nn.Identity() if not items else items[0] if len(items) == 1 else PostOps(*items)
