"""The ``attention`` trick: a channel-attention module at the end of every block's branch.

Its types are the layers of the ``create_attn`` registry (see
:func:`paddle_tricks.layers.create_attn.register_attn`), the same names as ``attn_layer=`` of the ResNets.
"""
from __future__ import annotations

import re
from typing import Any

import paddle.nn as nn

from ..layers.conv_bn import ConvBNAct
from ..layers.create_attn import ATTENTIONS, create_attn
from ..layers.surgery_leaf import SurgeryLeaf
from .probe import Context
from .report import TrickResult
from .surgery import PostOps, is_unit, post_items, set_post, unit_width, walk

__all__ = ["attention_types", "apply_attention", "blocks"]

_SHORTCUT = re.compile(r"^(downsample|shortcut|skip|identity|short)", re.IGNORECASE)


def attention_types() -> dict[str, dict[str, Any]]:
    return {n: dict(ATTENTIONS.entry(n).info["trick_options"]) for n in ATTENTIONS}


def blocks(model: nn.Layer) -> list[tuple[nn.Layer, ConvBNAct]]:
    """``(block, last ConvBNAct of its branch)`` for every block.

    A block is a child of an ``nn.Sequential`` / ``nn.LayerList`` that is not a unit, a leaf or a container
    and holds at least two units outside its shortcut sub-layers; its last unit is the last one registered.
    """
    out = []
    for _, _, container, _ in walk(model):
        if not isinstance(container, (nn.Sequential, nn.LayerList)) or isinstance(container, PostOps):
            continue
        for block in container.children():
            if is_unit(block) or isinstance(block, (SurgeryLeaf, nn.Sequential, nn.LayerList)):
                continue
            branch = [u for _, _, u, _ in walk(block) if is_unit(u)]
            shortcut = {id(u) for _, n, c, _ in walk(block) if _SHORTCUT.match(n)
                        for u in [c] + c.sublayers() if is_unit(u)}
            branch = [u for u in branch if id(u) not in shortcut]
            if len(branch) >= 2:
                out.append((block, branch[-1]))
    return out


def apply_attention(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    """Right after the BN of each block's last unit, before its activation (before the residual add)."""
    for _, last in blocks(ctx.model):
        c = unit_width(last)
        if c is None:
            res.skip("unknown width of the last unit")
            continue
        try:
            attn = create_attn(kind, c, **opts)
        except ValueError as e:
            res.skip(str(e))
            continue
        set_post(last, [attn] + post_items(last))
        res.converted += 1
