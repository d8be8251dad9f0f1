"""Layer-by-layer output shapes, printed like the tables of "Dive into Deep Learning".

``layer_shapes(model, input_size)`` runs one forward pass with forward hooks on the sublayers at a chosen
depth (the top-level children by default) and returns, in execution order, ``(name, class, output shape,
parameters)`` per call; ``print_layer_shapes`` prints them. Parameters are the trainable ones (Paddle keeps
BN running statistics as non-trainable parameters; they are not counted).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from .complexity import count_params

__all__ = ["layer_shapes", "print_layer_shapes"]


def _layers_at_depth(model: nn.Layer, depth: int, prefix: str = "") -> list[tuple[str, nn.Layer]]:
    out = []
    for name, child in model.named_children():
        full = f"{prefix}.{name}" if prefix else name
        grandchildren = list(child.children())
        if depth <= 1 or not grandchildren:
            out.append((full, child))
        else:
            out.extend(_layers_at_depth(child, depth - 1, full))
    return out


def _shape_of(output) -> tuple[int, ...] | list:
    if isinstance(output, paddle.Tensor):
        return tuple(int(d) for d in output.shape)
    if isinstance(output, (list, tuple)):
        return [_shape_of(o) for o in output]
    return ()


def layer_shapes(model: nn.Layer, input_size: Sequence[int], depth: int = 1,
                 dtype: str = "float32") -> list[tuple[str, str, tuple[int, ...], int]]:
    """Output shape of every sublayer at ``depth`` for an input of shape ``input_size`` (batch included).

    The forward pass runs in eval mode without gradients on a random input; the model's mode is restored.

    Args:
        model: the network.
        input_size: full input shape, e.g. ``(1, 1, 28, 28)``.
        depth: 1 = direct children; 2 = their children (layers without children are kept as they are); ...
        dtype: input dtype.

    Returns:
        ``[(name, class_name, output_shape, num_params), ...]`` in the order the layers ran (a layer that
        runs twice appears twice).
    """
    if depth < 1:
        raise ValueError(f"layer_shapes: depth must be >= 1, got {depth}")
    targets = _layers_at_depth(model, depth)
    if not targets:
        raise ValueError(f"layer_shapes: {type(model).__name__} has no sublayers to report")
    records: list[tuple[str, str, tuple[int, ...], int]] = []
    handles = []
    for name, layer in targets:
        def hook(lyr, inputs, output, _name=name):
            records.append((_name, type(lyr).__name__, _shape_of(output), count_params(lyr)))
        handles.append(layer.register_forward_post_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.rand(list(input_size), dtype=dtype))
    finally:
        for h in handles:
            h.remove()
        if was_training:
            model.train()
    return records


def print_layer_shapes(model: nn.Layer, input_size: Sequence[int], depth: int = 1,
                       dtype: str = "float32") -> str:
    """Print (and return) one line per layer, d2l style: ``Conv2D  output shape: [1, 6, 28, 28]`` plus params.

    Args:
        model: the network.
        input_size: full input shape, e.g. ``(1, 1, 28, 28)``.
        depth: sublayer depth to report (see ``layer_shapes``).
        dtype: input dtype.
    """
    rows = layer_shapes(model, input_size, depth, dtype)
    name_w = max(len(r[0]) for r in rows)
    cls_w = max(len(r[1]) for r in rows)
    shape_strs = [str(list(r[2])) if isinstance(r[2], tuple) else str(r[2]) for r in rows]
    shape_w = max(len(s) for s in shape_strs)
    lines = [f"{name:<{name_w}}  {cls:<{cls_w}}  output shape: {shape:<{shape_w}}  params: {n:,}"
             for (name, cls, _, n), shape in zip(rows, shape_strs)]
    lines.append(f"total params: {count_params(model):,}")
    text = "\n".join(lines)
    print(text)
    return text
