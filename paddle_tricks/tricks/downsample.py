"""The ``downsample`` trick: anti-aliased (or otherwise replaced) downsampling at every strided layer.

The surgery decides *where* (the placements of the official ``antialiased-cnns``, Zhang, ICML 2019,
arXiv 1904.11486); a downsampling type registered with :func:`register_downsample` decides *what*:

* a strided k×k ConvBNAct (k > 1) keeps its conv at stride 1 and gets ``pool(C_out, stride)`` after its
  activation;
* a strided 1×1 ConvBNAct without activation (a projection shortcut) becomes ``pool(C_in, stride)``
  followed by the unit at stride 1;
* a strided ``nn.MaxPool2D`` becomes ``max_pool(pool, C, stride)`` (default: the max-pool at stride 1,
  then ``pool``).

Convs that read the input image keep their stride unless the type's option ``blur_stem`` is true.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import paddle.nn as nn

from ..utils.registry import Registry
from .probe import Context, Probe
from .report import TrickResult
from .surgery import is_unit, plain_conv, post_items, replace, restride, set_post, walk

__all__ = ["Downsampler", "DOWNSAMPLERS", "register_downsample", "downsample_types", "apply_downsample"]


@dataclass(frozen=True)
class Downsampler:
    """What a downsampling type builds.

    Attributes:
        pool: ``(channels, stride, options) -> layer`` that does the striding.
        max_pool: ``(max_pool, channels, stride, options) -> layer`` replacing a strided max-pool;
            ``None``: the max-pool at stride 1 (same kernel and padding), then ``pool``.
        check_map: ``(h, w, options, probe_size)``, called for each map a new layer will see at the
            probe's input size; raises ``ValueError`` when the map is too small for the layer.
    """

    pool: Callable[[int, int, dict], nn.Layer]
    max_pool: Callable[[nn.MaxPool2D, int, int, dict], nn.Layer] | None = None
    check_map: Callable[[int, int, dict, int], None] | None = None


DOWNSAMPLERS = Registry("downsample type")


def register_downsample(name: str, downsampler: Downsampler, **options: Any) -> Downsampler:
    """Register ``downsampler`` as type ``name`` of the ``downsample`` trick with its ``options``
    (defaults); the common option ``blur_stem`` (False) is added."""
    return DOWNSAMPLERS.register(name, options={**options, "blur_stem": False})(downsampler)


def downsample_types() -> dict[str, dict[str, Any]]:
    return {n: dict(DOWNSAMPLERS.entry(n).info["options"]) for n in DOWNSAMPLERS}


def _pool_stride(pool: nn.MaxPool2D) -> int | None:
    """The square stride of a max-pool (Paddle: ``stride=None`` means the kernel size); None if not square."""
    s = pool.ksize if pool.stride is None else pool.stride
    if isinstance(s, (list, tuple)):
        s = s[0] if len(set(s)) == 1 else None
    return s


def _new_map_hw(probe: Probe, job: str, layer: nn.Layer, info) -> tuple[int, int] | None:
    """Size of the map the new downsampling layer will see (at the probe's input size)."""
    hw = probe.in_hw(layer)
    if hw is None:
        return None
    if job == "maxpool":
        k, p = layer.ksize, layer.padding
        if not isinstance(k, int) or not isinstance(p, int):
            return None
    elif info.k == 1 and not post_items(layer):
        return hw  # projection shortcut: the pool runs on the unit's input
    else:
        k, p = info.k, info.pad
    return (hw[0] + 2 * p - k + 1, hw[1] + 2 * p - k + 1)


def _strided_layers(ctx: Context, opts: dict, res: TrickResult) -> list:
    """``(job, parent, name, layer, info)`` for every strided unit and max-pool the trick takes."""
    probe = ctx.probe
    full = (probe.size, probe.size)
    jobs = []
    for parent, name, layer, _ in walk(ctx.model, into=lambda l: not is_unit(l)):
        if is_unit(layer):
            g = plain_conv(layer.conv)
            if g is None:
                if isinstance(layer.conv, nn.Conv2D) and max(layer.conv._stride) > 1:
                    res.skip("strided conv that is not square / plain")
                continue
            if g.stride == 1:
                continue
            if not opts["blur_stem"] and probe.in_hw(layer) == full:
                res.skip("stem conv on the input image (blur_stem: false)")
                continue
            jobs.append(("unit", parent, name, layer, g))
        elif isinstance(layer, nn.MaxPool2D):
            stride = _pool_stride(layer)
            if stride is None or layer.data_format != "NCHW" or layer.return_mask:
                res.skip("max-pool with a non-square stride, NHWC layout or return_mask")
                continue
            if stride == 1:
                continue
            c = probe.in_channels(layer)
            if isinstance(c, str):
                res.skip(f"max-pool: {c}")
                continue
            jobs.append(("maxpool", parent, name, layer, (c, stride)))
        elif isinstance(layer, (nn.Conv2D, nn.AvgPool2D)):
            s = layer._stride if isinstance(layer, nn.Conv2D) else layer.stride
            s = max(s) if isinstance(s, (list, tuple)) else (s or 1)
            if s > 1:
                res.skip(f"strided {type(layer).__name__} outside a ConvBNAct")
    return jobs


def _default_max_pool(spec: Downsampler, pool: nn.MaxPool2D, channels: int, stride: int, opts: dict) -> nn.Layer:
    return nn.Sequential(nn.MaxPool2D(pool.ksize, stride=1, padding=pool.padding, ceil_mode=pool.ceil_mode),
                         spec.pool(channels, stride, opts))


def apply_downsample(ctx: Context, kind: str, opts: dict, res: TrickResult) -> None:
    spec: Downsampler = DOWNSAMPLERS.get(kind)
    jobs = _strided_layers(ctx, opts, res)
    if spec.check_map is not None:  # all maps checked before the first change
        for job, _, _, layer, info in jobs:
            hw = _new_map_hw(ctx.probe, job, layer, info)
            if hw is not None:
                spec.check_map(hw[0], hw[1], opts, ctx.probe.size)
    for job, parent, name, layer, info in jobs:
        if job == "maxpool":
            c, stride = info
            make = spec.max_pool or (lambda *a: _default_max_pool(spec, *a))
            replace(parent, name, make(layer, c, stride, opts))
        else:
            g = info
            layer.conv = restride(layer.conv)
            post = post_items(layer)
            if g.k == 1 and not post:  # projection shortcut: the pool goes first, as the official code
                replace(parent, name, nn.Sequential(spec.pool(g.cin, g.stride, opts), layer))
            else:
                set_post(layer, post + [spec.pool(g.cout, g.stride, opts)])
        res.converted += 1
