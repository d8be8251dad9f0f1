"""Model complexity: parameter count and multiply-adds (MAdds) of one forward pass.

MAdds follow the convention of the MobileNet / AsymmNet papers: one multiply-add per weight use,
counted for convolutions (grouped and depthwise included, so 1×1 convolutions used as fully
connected layers count too) and ``nn.Linear``. Bias additions, BatchNorm, activations, pooling
and element-wise ops are not counted (1 MAdd ≈ 2 FLOPs).

The count runs a dummy forward in eval mode with forward post-hooks, so it follows the layers
that are really called (a layer called twice counts twice) and it sees the real output sizes.

Extension point: a layer that computes something the hooks cannot see (for example one calling
``paddle.nn.functional.conv2d`` on its own weights) defines

    def madds(self, inputs: tuple, output) -> int

returning the MAdds of one call of that layer, for the whole batch. Such a layer is counted by
its method alone: its sublayers are not hooked, so it must include them itself.
"""
from __future__ import annotations

import math
from typing import Sequence

import paddle
import paddle.nn as nn

__all__ = ["count_params", "count_madds", "model_complexity"]

_CONV = (nn.Conv1D, nn.Conv2D, nn.Conv3D)
_CONV_TRANSPOSE = (nn.Conv1DTranspose, nn.Conv2DTranspose, nn.Conv3DTranspose)


def _bn_statistics(model: nn.Layer) -> set[int]:
    """ids of the BatchNorm running mean/variance (``_mean``/``_variance``, all Paddle BN classes),
    which Paddle stores as non-trainable parameters."""
    return {id(getattr(layer, name)) for layer in model.sublayers(include_self=True)
            for name in ("_mean", "_variance") if getattr(layer, name, None) is not None}


def count_params(model: nn.Layer, trainable_only: bool = False, include_bn_stats: bool = False) -> int:
    """Number of parameter values of ``model`` (shared parameters counted once).

    Args:
        model: the network.
        trainable_only: count only parameters that receive gradients (``stop_gradient`` False).
        include_bn_stats: also count BatchNorm running mean/variance, which Paddle keeps as
            non-trainable parameters (``paddle.summary`` includes them in "Total params"; papers
            and the official AsymmNet count do not).
    """
    skip = set() if include_bn_stats else _bn_statistics(model)
    total = 0
    for p in model.parameters():  # paddle already de-duplicates shared parameters
        if id(p) in skip or (trainable_only and p.stop_gradient):
            continue
        total += math.prod(p.shape)
    return total


def _positions(conv: nn.Layer, x) -> int:
    """Batch × spatial positions of a conv input/output (channels-first or channels-last)."""
    channels_last = getattr(conv, "_data_format", "NCHW")[-1] == "C"
    spatial = x.shape[1:-1] if channels_last else x.shape[2:]
    return x.shape[0] * math.prod(spatial)


def _layer_madds(layer: nn.Layer, inputs: tuple, output) -> int:
    if hasattr(layer, "madds"):
        return int(layer.madds(inputs, output))
    if isinstance(layer, _CONV):
        # weight [Cout, Cin/groups, *k]: every weight is used once per output position
        return math.prod(layer.weight.shape) * _positions(layer, output)
    if isinstance(layer, _CONV_TRANSPOSE):
        # weight [Cin, Cout/groups, *k]: every weight is used once per input position
        return math.prod(layer.weight.shape) * _positions(layer, inputs[0])
    if isinstance(layer, nn.Linear):  # weight [in, out]: in MAdds per output value
        return layer.weight.shape[0] * math.prod(output.shape)
    return 0


def _counted_layers(layer: nn.Layer):
    """Layers to hook: those with ``madds`` (not entered) and the known conv/linear leaves."""
    if hasattr(layer, "madds") or isinstance(layer, _CONV + _CONV_TRANSPOSE + (nn.Linear,)):
        yield layer
        return
    for child in layer.children():
        yield from _counted_layers(child)


def count_madds(model: nn.Layer, input_size: Sequence[int] = (1, 3, 224, 224)) -> int:
    """Multiply-adds of one eval-mode forward pass on a zero tensor of shape ``input_size``.

    The count is for the whole batch, so keep the default batch of 1 for per-image MAdds.
    Train/eval modes of every sublayer are restored afterwards and no gradients are recorded.

    Args:
        model: the network.
        input_size: shape of the dummy input, batch first.
    """
    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        total += _layer_madds(layer, inputs, output)

    was_training = model.training
    modes = [(layer, layer.training) for layer in model.sublayers()]
    handles = [layer.register_forward_post_hook(hook) for layer in _counted_layers(model)]
    try:
        model.eval()
        params = model.parameters()
        dtype = params[0].dtype if params else paddle.float32
        with paddle.no_grad():
            model(paddle.zeros(list(input_size), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        # train()/eval() also restore Paddle's global tracer mode (Paddle 2.6 has no train(mode))
        model.train() if was_training else model.eval()
        for layer, training in modes:
            layer.training = training
    return total


def model_complexity(model: nn.Layer, input_size: Sequence[int] = (1, 3, 224, 224)) -> dict[str, int]:
    """``{'params': count_params(model), 'madds': count_madds(model, input_size)}``.

    Args:
        model: the network.
        input_size: shape of the dummy input, batch first.
    """
    return {"params": count_params(model), "madds": count_madds(model, input_size)}
