"""The probe: shapes seen by every layer in one eval-mode forward pass, run once and only when needed."""
from __future__ import annotations

import paddle
import paddle.nn as nn

from .report import TrickResult
from .surgery import units, walk

__all__ = ["Probe", "Context", "stage_filter"]


class Probe:
    """Shapes seen by every layer in one eval-mode forward pass of a ``1×C×S×S`` zero image."""

    def __init__(self, model: nn.Layer, size: int, in_channels: int | None):
        if in_channels is None:
            first = next((l for l in model.sublayers() if isinstance(l, nn.Conv2D)), None)
            if first is None:
                raise ValueError("tricks: cannot tell the input channels (no Conv2D); set tricks.in_channels")
            in_channels = first._in_channels
        self.size = size
        self.inputs: dict[int, list[list[int]]] = {}
        self.outputs: dict[int, list[list[int]]] = {}

        def hook(layer, inputs, output):
            x = inputs[0] if isinstance(inputs, (tuple, list)) and inputs else inputs
            if isinstance(x, paddle.Tensor):
                self.inputs.setdefault(id(layer), []).append(list(x.shape))
            if isinstance(output, paddle.Tensor):
                self.outputs.setdefault(id(layer), []).append(list(output.shape))

        handles = [c.register_forward_post_hook(hook) for _, _, c, _ in walk(model)]
        flags = [(l, l.training) for l in model.sublayers(include_self=True)]
        model.eval()
        try:
            with paddle.no_grad():
                model(paddle.zeros([1, in_channels, size, size]))
        except Exception as e:  # noqa: BLE001 - any failure means the probe size does not suit the model
            raise ValueError(f"tricks: the probe forward pass on a 1x{in_channels}x{size}x{size} input failed "
                             f"({type(e).__name__}: {e}); set tricks.input_size / tricks.in_channels") from None
        finally:
            for h in handles:
                h.remove()
            for l, t in flags:
                l.training = t

    def out_hw(self, layer: nn.Layer) -> tuple[int, int] | None:
        shapes = self.outputs.get(id(layer))
        return (shapes[0][2], shapes[0][3]) if shapes and len(shapes[0]) == 4 else None

    def in_hw(self, layer: nn.Layer) -> tuple[int, int] | None:
        shapes = self.inputs.get(id(layer))
        return (shapes[0][2], shapes[0][3]) if shapes and len(shapes[0]) == 4 else None

    def in_channels(self, layer: nn.Layer) -> int | str:
        """The channel count of the layer's 4-D input, or the reason it is unknown."""
        shapes = self.inputs.get(id(layer))
        if not shapes:
            return "not called in the probe forward pass"
        if any(len(s) != 4 for s in shapes):
            return "input is not an NCHW map"
        widths = {s[1] for s in shapes}
        if len(widths) > 1:
            return f"used at several widths {sorted(widths)}"
        return widths.pop()

    def smallest(self, layers, n: int) -> set[tuple[int, int]]:
        """The ``n`` smallest distinct output resolutions of ``layers``."""
        sizes = {hw for u in layers if (hw := self.out_hw(u)) is not None}
        return set(sorted(sizes, key=lambda hw: (hw[0] * hw[1], hw))[:n])


class Context:
    """The model under surgery, the probe settings, and the probe (built on first use)."""

    def __init__(self, model: nn.Layer, settings: dict):
        self.model = model
        self.settings = settings
        self._probe: Probe | None = None

    @property
    def probe(self) -> Probe:
        if self._probe is None:
            self._probe = Probe(self.model, self.settings["input_size"], self.settings["in_channels"])
        return self._probe


def stage_filter(ctx: Context, items, n: int | None, res: TrickResult) -> list:
    """The ``(parent, name, unit, path)`` items in the ``n`` smallest resolutions (all if ``n`` is None);
    the others are counted as skipped."""
    if n is None:
        return list(items)
    probe = ctx.probe
    allowed = probe.smallest([u for _, _, u, _ in units(ctx.model)], n)
    kept = []
    for item in items:
        hw = probe.out_hw(item[2])
        if hw is None:
            res.skip("not called in the probe forward pass")
        elif hw in allowed:
            kept.append(item)
        else:
            res.skip(f"outside the last {n} stages")
    return kept
