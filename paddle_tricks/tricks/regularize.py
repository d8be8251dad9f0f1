"""The ``drop_block`` and ``dropout`` tricks: regularisers put into a trained-as-is network."""
from __future__ import annotations

import paddle.nn as nn

from ..layers.dropblock import DropBlock
from .probe import Context, stage_filter
from .report import TrickResult
from .surgery import post_items, replace, set_post, units, walk

__all__ = ["DROP_BLOCK_OPTIONS", "DropoutLinear", "apply_drop_block", "apply_dropout"]

DROP_BLOCK_OPTIONS = {"block_size": 7, "keep_prob": 0.9, "stages": "last2"}


def apply_drop_block(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    """DropBlock (Ghiasi et al., NeurIPS 2018, arXiv 1810.12890) after the activation of every unit in the
    selected stages, as the official ``batch_norm_relu`` then ``dropblock``."""
    for _, _, unit, _ in stage_filter(ctx, units(ctx.model), opts["stages"], res):
        set_post(unit, post_items(unit) + [DropBlock(opts["block_size"], opts["keep_prob"])])
        res.converted += 1


class DropoutLinear(nn.Linear):
    """``nn.Linear`` with dropout on its input; same parameter names (``weight``, ``bias``) as the Linear.

    Args:
        in_features: input features.
        out_features: output features.
        p: dropout probability.
        bias: whether the layer has a bias.
    """

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True):
        super().__init__(in_features, out_features, bias_attr=None if bias else False)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        return super().forward(self.dropout(x))


def apply_dropout(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    """Dropout on the input of the classifier (the last ``nn.Linear``), which becomes a DropoutLinear."""
    last = None
    for parent, name, layer, _ in walk(ctx.model):
        if type(layer) is nn.Linear:
            last = (parent, name, layer)
    if last is None:
        return
    parent, name, lin = last
    new = DropoutLinear(lin.weight.shape[0], lin.weight.shape[1], p=opts["p"], bias=lin.bias is not None)
    new.weight.set_value(lin.weight)
    if lin.bias is not None:
        new.bias.set_value(lin.bias)
    replace(parent, name, new)
    res.converted += 1
