"""The ``conv3x3`` trick: replace the conv of every ConvBNAct with a square k×k kernel (see docs/TRICKS.md).

A conv type registers a converter with :func:`register_conv3x3`; the converter gets the unit, the
geometry of its plain conv, the checked options and the surgery context, changes the unit in place, and
raises :class:`~paddle_tricks.tricks.report.Skip` (or ``ValueError``) for a conv it cannot take.
"""
from __future__ import annotations

from typing import Any, Callable

import paddle
import paddle.nn as nn

from ..layers.acb import ACBlock
from ..layers.conv_bn import ConvBNAct
from ..layers.coordconv import CoordConv
from ..layers.deformable import DeformableConv
from ..layers.pyconv import PyConv
from ..layers.spconv import SPConv
from ..utils.registry import Registry
from .probe import Context, stage_filter
from .report import Skip, TrickResult
from .surgery import ConvGeometry, plain_conv, units

__all__ = ["CONV3X3", "register_conv3x3", "apply_conv3x3", "conv3x3_types"]

Converter = Callable[[ConvBNAct, ConvGeometry, dict, Context], None]
CONV3X3 = Registry("conv3x3 type")
_STAGES = {"stages": "all"}


def register_conv3x3(name: str, kernel_sizes: tuple[int, ...] = (3,), **options: Any):
    """Decorator: register a converter as type ``name`` of the ``conv3x3`` trick.

    ``kernel_sizes`` are the square kernels it takes; ``options`` its options with defaults (the common
    option ``stages`` is added).
    """
    return CONV3X3.register(name, kernel_sizes=kernel_sizes, options={**options, **_STAGES})


def conv3x3_types() -> dict[str, dict[str, Any]]:
    return {n: CONV3X3.entry(n).info["options"] for n in CONV3X3}


def _require_plain(g: ConvGeometry) -> None:
    if g.groups != 1:
        raise Skip("grouped or depthwise conv")
    if g.pad != g.k // 2:
        raise Skip("padding is not k//2")


def _copy_bn(dst: nn.Layer, src: nn.Layer) -> None:
    for name in ("weight", "bias", "_mean", "_variance"):
        s, d = getattr(src, name, None), getattr(dst, name, None)
        if s is not None and d is not None and list(s.shape) == list(d.shape):
            d.set_value(s)


@register_conv3x3("acblock", kernel_sizes=(3, 5), gamma_init=None)
def _acblock(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """ACNet (arXiv 1908.03930): the square branch starts from the unit's conv and BN."""
    if not isinstance(unit.bn, nn.BatchNorm2D):
        raise Skip("no BatchNorm2D to absorb (already folded?)")
    block = ACBlock(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, groups=g.groups,
                    gamma_init=opts["gamma_init"])
    block.square_conv.weight.set_value(unit.conv.weight)
    if opts["gamma_init"] is None:
        _copy_bn(block.square_bn, unit.bn)
    unit.conv = block
    unit.bn = nn.Identity()


@register_conv3x3("spconv", ratio=0.5)
def _spconv(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """SPConv (arXiv 2006.12085); the unit keeps its BN."""
    _require_plain(g)
    if g.stride == 2:
        hw = ctx.probe.in_hw(unit)
        if hw is not None and (hw[0] % 2 or hw[1] % 2):
            raise Skip(f"SPConv: stride 2 needs an even map (its AvgPool(2) must match the strided 3x3), "
                       f"got {hw[0]}x{hw[1]}")
    unit.conv = SPConv(g.cin, g.cout, stride=g.stride, ratio=opts["ratio"])


@register_conv3x3("pyconv")
def _pyconv(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """PyConv (arXiv 2006.11538) with the PyConvResNet pyramid of the unit's stage."""
    _require_plain(g)
    order = sorted(ctx.probe.smallest([u for _, _, u, _ in units(ctx.model)], 4), key=lambda hw: hw[0] * hw[1])
    stage = {hw: 4 - i for i, hw in enumerate(order)}.get(ctx.probe.out_hw(unit), 1)
    unit.conv = PyConv.for_stage(g.cin, g.cout, stage, stride=g.stride)


@register_conv3x3("coordconv", with_r=False)
def _coordconv(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """CoordConv (arXiv 1807.03247): zero weights on the coordinate channels (same function at start)."""
    _require_plain(g)
    new = CoordConv(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, with_r=opts["with_r"], bias=False)
    w = paddle.zeros(new.conv.weight.shape, dtype=unit.conv.weight.dtype)
    w[:, :g.cin] = unit.conv.weight
    new.conv.weight.set_value(w)
    unit.conv = new


def _deformable(unit: ConvBNAct, g: ConvGeometry, opts: dict, modulated: bool) -> None:
    _require_plain(g)
    new = DeformableConv(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, groups=g.groups,
                         deformable_groups=opts["deformable_groups"], modulated=modulated)
    new.conv.weight.set_value(unit.conv.weight)
    unit.conv = new


@register_conv3x3("deformable", deformable_groups=1)
def _dcn_v1(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """DCN v1 (arXiv 1703.06211), zero offsets and the unit's weights."""
    _deformable(unit, g, opts, modulated=False)


@register_conv3x3("deformable_v2", deformable_groups=1)
def _dcn_v2(unit: ConvBNAct, g: ConvGeometry, opts: dict, ctx: Context) -> None:
    """DCN v2 (arXiv 1811.11168), zero offsets and the unit's weights."""
    _deformable(unit, g, opts, modulated=True)


def apply_conv3x3(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    """Convert every unit whose plain conv has a kernel the type takes, in the selected stages."""
    entry = CONV3X3.entry(kind)
    candidates = []
    for item in units(ctx.model):
        g = plain_conv(item[2].conv)
        if g is not None and g.k in entry.info["kernel_sizes"]:
            candidates.append((item, g))
    kept = {id(i[2]) for i in stage_filter(ctx, [c[0] for c in candidates], opts["stages"], res)}
    for (_, _, unit, _), g in candidates:
        if id(unit) not in kept:
            continue
        try:
            entry.obj(unit, g, opts, ctx)
            res.converted += 1
        except (Skip, ValueError) as e:  # a layer's ValueError names the constraint and the values
            res.skip(str(e))
