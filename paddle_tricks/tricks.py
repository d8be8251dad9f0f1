"""Switch a trick on for a whole network by model surgery: ``apply_tricks(model, {...})``.

``apply_tricks(model, tricks)`` changes ``model`` in place and returns it. It needs no knowledge of the
architecture beyond the package conventions: convolutions are :class:`~paddle_tricks.layers.conv_bn.ConvBNAct`
units (``.conv``, ``.bn``, ``.act``), activations are layers, and blocks are the children of
``nn.Sequential`` / ``nn.LayerList`` containers. It is tested on ResNet-18, MobileNetV2 and AsymmNet-L.
A config switches tricks on with ``Arch.tricks`` (the trainer calls this function).

Each key below takes a type name (``conv3x3: acblock``), a mapping with a ``type`` and options
(``conv3x3: {type: spconv, ratio: 0.5}``), or ``null`` / ``false`` to switch it off.

``conv3x3`` — replace the conv of every ConvBNAct with a square, non-dilated 3×3 kernel:

* ``acblock``: ACNet (Ding et al., "ACNet: Strengthening the Kernel Skeletons for Powerful CNN via
  Asymmetric Convolution Blocks", ICCV 2019, arXiv 1908.03930). Also takes 5×5 kernels, as ACNet does
  (1×1 and k ≥ 7 stay plain). ``.conv`` becomes an :class:`~paddle_tricks.layers.ACBlock` and ``.bn``
  becomes ``nn.Identity`` (the block has one BN per branch), so :func:`paddle_tricks.deploy.reparameterize`
  fuses the unit into one biased conv with exactly the plain unit's parameter count. The square branch
  starts from the original conv weight and BN state. Option ``gamma_init`` (ACNet's CIFAR setting: 1/3;
  then the BN state is not copied). Grouped and depthwise convs are converted too.
* ``spconv``: SPConv (Zhang et al., "Split to Be Slim: An Overlooked Redundancy in Vanilla Convolution",
  IJCAI 2020, arXiv 2006.12085) replaces the conv only; the unit keeps its BN, as the official networks
  do. Non-grouped convs whose channels the split can take (``int(C·ratio)`` and ``C_out`` even); others
  are skipped and counted. Option ``ratio`` (0.5). A stride-2 conv whose input map is odd at ``input_size``
  is skipped too (SPConv's AvgPool(2) and strided 3×3 would disagree): set ``input_size`` to the training size.
* ``pyconv``: PyConv (Duta et al., "Pyramidal Convolution", arXiv 2006.11538) with the PyConvResNet
  pyramid of the conv's stage: the four smallest output resolutions of the net are stages 4, 3, 2, 1
  (larger ones stage 1). Non-grouped convs whose channels every level's split and groups divide.
* ``coordconv``: CoordConv (Liu et al., NeurIPS 2018, arXiv 1807.03247), option ``with_r``. Non-grouped
  convs. The conv keeps its weights and gets zero weights for the coordinate channels, so the net computes
  the same function until it trains.
* ``deformable`` / ``deformable_v2``: DCN v1 / v2 (Dai et al., ICCV 2017, arXiv 1703.06211; Zhu et al.,
  CVPR 2019, arXiv 1811.11168) with zero-initialised offsets and the original weights (v1 computes the same
  function until it trains). Option ``deformable_groups``. DCNv2 uses every 3×3 of conv3–conv5, which is
  ``stages: last3`` on a ResNet.

  Common option ``stages``: ``all`` (default), ``lastN`` or ``N``: only the convs whose output resolution
  is among the N smallest output resolutions of the net's ConvBNActs (found by one forward pass at
  ``input_size``, in eval mode, without gradients).

``act`` — replace activation layers (``nn.ReLU``, ``ReLU6``, ``Hardswish``, ``Swish``, ``Silu``,
``LeakyReLU``, ``Mish``, ``GELU``, ``ELU``; option ``only: [relu, ...]`` narrows the kinds):

* ``dyrelu_a`` / ``dyrelu_b`` / ``dyrelu_c``: Dynamic ReLU (Chen et al., ECCV 2020, arXiv 2003.10027),
  options ``reduction`` (4) and ``k`` (2); ``dyrelu_c`` also ``tau``, ``gamma_scale``;
* ``acon_c`` / ``meta_acon_c``: ACON (Ma et al., "Activate or Not", CVPR 2021, arXiv 2009.04759),
  ``meta_acon_c`` option ``r`` (16). Their p1, p2, β are flagged no-weight-decay by the layer;
* a plain activation: ``relu``, ``relu6``, ``hswish``/``hardswish``, ``swish``, ``silu``, ``mish``,
  ``gelu``, ``leaky_relu``.

  The channel count of the ``.act`` of a ConvBNAct is the unit's output width; that of any other
  activation (e.g. after a residual add) comes from the probe forward pass, and one used at several widths
  or on non-4-D tensors is skipped and counted. The paper placements differ (DY-ReLU replaces every
  ReLU; the ACON ResNets only the one after each 3×3); this trick replaces every activation it can.

``downsample`` — ``blurpool``: anti-aliased downsampling (Zhang, "Making Convolutional Networks
Shift-Invariant Again", ICML 2019, arXiv 1904.11486), placements of the official ``antialiased-cnns``:

* a strided ConvBNAct with a k×k kernel (k > 1) or an activation becomes ``conv(stride 1) → BN → act →
  BlurPool(stride)`` (ConvBlurPool);
* a strided 1×1 ConvBNAct without activation (a projection shortcut) becomes ``BlurPool(stride) → 1×1
  (stride 1) → BN``: the blur goes first, as in the official shortcut (the same function, 4× cheaper);
* a strided ``nn.MaxPool2D`` becomes :class:`~paddle_tricks.layers.MaxBlurPool`: the max-pool keeps its
  kernel and padding with stride 1, then BlurPool. (The official ResNet uses ``MaxPool(2, s1)``; keeping
  the kernel and padding keeps every feature-map size of the original net.)
* ``blur_stem: false`` (default, the official ``pool_only=True``): convs that read the input image keep
  their stride (at full resolution the stride-1 conv would cost 4×); ``true`` blurs them too.

  Options ``filt_size`` (4, the official default and the best ResNet-50 top-1 of the official README; 5 gives
  the best consistency) and ``pad_type`` (reflect; a map too small for reflect padding at ``input_size``
  raises ``ValueError`` naming ``replicate`` / a smaller filter as the fix).
  Other strided layers (plain ``nn.Conv2D``, average pooling) are left alone and counted.

``attention`` — ``se`` (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv 1709.01507,
option ``reduction``: 16) or ``nam`` (Liu et al., "NAM: Normalization-based Attention Module", arXiv
2111.12419, channel form of the official code): at the end of each block's branch, right after the BN of
the block's last ConvBNAct and before its activation (identity in residual blocks, so before the add), where
SENet and NAM put it. A *block* is a child of an ``nn.Sequential`` / ``nn.LayerList`` that is not a
ConvBNAct and holds at least two ConvBNActs outside its ``downsample`` / ``shortcut`` sub-layers; its
*last* ConvBNAct is the last one registered. Blocks with several parallel branches (Inception) are not
supported. The convs and BNs stay foldable by ``reparameterize``.

``drop_block`` — DropBlock (Ghiasi et al., NeurIPS 2018, arXiv 1810.12890) after every ConvBNAct whose
output resolution is among the ``stages`` smallest (default ``last2``: ResNet groups 3 and 4, as in the
paper). Options ``block_size`` (7) and ``keep_prob`` (0.9), the paper's values; schedule ``keep_prob``
with :func:`paddle_tricks.layers.set_dropblock_keep_prob`. The layer goes after the unit's activation,
as in the official TF code (``batch_norm_relu`` then ``dropblock``); after the BN when there is none
(projection-shortcut BNs included, as in the official code). Difference: the official code also drops on
identity shortcuts, which are no layers here and get no DropBlock.

``dropout`` — a probability ``p``: dropout on the input of the classifier (the last ``nn.Linear``),
which becomes a :class:`DropoutLinear` with the same parameter names. R-Drop (``Loss.rdrop_alpha``) needs
a stochastic net; a ResNet has no dropout of its own.

Settings: ``input_size`` (224) and ``in_channels`` (that of the first conv) of the probe forward pass.

The tricks are applied in a fixed order — ``dropout, downsample, conv3x3, act, attention, drop_block`` —
so that, for example, ACBlock builds stride-1 convs after BlurPool took the stride. Every trick logs one
line (``log``, default ``print``) with the number of layers converted and skipped (and why); the same
report is kept in ``model.trick_report``. A trick that converts nothing raises ``ValueError``, and so do
an unknown trick, type or option (with the valid names).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import paddle
import paddle.nn as nn

from .layers.acb import ACBlock
from .layers.acon import AconC, MetaAconC
from .layers.blurpool import _PAD_MODES, BlurPool, MaxBlurPool
from .layers.conv_bn import ConvBNAct, make_act
from .layers.coordconv import AddCoords, CoordConv
from .layers.deformable import DeformableConv
from .layers.dropblock import DropBlock
from .layers.dyrelu import DyReLUA, DyReLUB, DyReLUC, _DyReLU
from .layers.nam import NAM
from .layers.octconv import OctaveConv, OctaveConvBNAct
from .layers.pyconv import PyConv
from .layers.se import SEModule
from .layers.sk import SKConv
from .layers.spconv import SPConv
from .layers.split_attention import RSoftmax, SplitAttention
from .layers.spp import SpatialPyramidPooling

__all__ = ["apply_tricks", "available_tricks", "TrickReport", "TrickResult", "DropoutLinear", "PostOps",
           "TRICK_ORDER"]

TRICK_ORDER = ("dropout", "downsample", "conv3x3", "act", "attention", "drop_block")
_SETTINGS = {"input_size": 224, "in_channels": None}

# --------------------------------------------------------------------------------------------- options

_STAGES = {"stages": "all"}
_CONV3X3: dict[str, dict[str, Any]] = {
    "acblock": {"gamma_init": None, **_STAGES},
    "spconv": {"ratio": 0.5, **_STAGES},
    "pyconv": dict(_STAGES),
    "coordconv": {"with_r": False, **_STAGES},
    "deformable": {"deformable_groups": 1, **_STAGES},
    "deformable_v2": {"deformable_groups": 1, **_STAGES},
}
_ACT_KINDS: dict[type, str] = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Hardswish: "hardswish", nn.Swish: "swish",
                               nn.Silu: "silu", nn.LeakyReLU: "leaky_relu", nn.Mish: "mish", nn.GELU: "gelu",
                               nn.ELU: "elu"}
_ACT_ALIASES = {"hswish": "hardswish"}
_ONLY = {"only": None}
_ACT: dict[str, dict[str, Any]] = {
    "dyrelu_a": {"reduction": 4, "k": 2, **_ONLY},
    "dyrelu_b": {"reduction": 4, "k": 2, **_ONLY},
    "dyrelu_c": {"reduction": 4, "k": 2, "tau": 10.0, "gamma_scale": 1.0 / 3.0, **_ONLY},
    "acon_c": dict(_ONLY),
    "meta_acon_c": {"r": 16, **_ONLY},
    **{name: dict(_ONLY) for name in ("relu", "relu6", "hswish", "hardswish", "swish", "silu", "mish", "gelu",
                                      "leaky_relu")},
}
_DOWNSAMPLE = {"blurpool": {"filt_size": 4, "blur_stem": False, "pad_type": "reflect"}}
_ATTENTION = {"se": {"reduction": 16}, "nam": {}}
_DROP_BLOCK = {"block_size": 7, "keep_prob": 0.9, "stages": "last2"}

# trick -> {type: {option: default}} for the tricks that take a type (drop_block and dropout do not)
_TYPED: dict[str, dict[str, dict[str, Any]]] = {
    "conv3x3": _CONV3X3, "act": _ACT, "downsample": _DOWNSAMPLE, "attention": _ATTENTION,
}


def available_tricks() -> dict[str, dict[str, dict[str, Any]]]:
    """Every trick key with its types and their options (defaults); see the module docstring.

    ``drop_block`` has one implicit type ``dropblock``; ``dropout`` takes a probability;
    ``input_size`` / ``in_channels`` are settings of the probe forward pass.
    """
    out = {k: {t: dict(o) for t, o in v.items()} for k, v in _TYPED.items()}
    out["drop_block"] = {"dropblock": dict(_DROP_BLOCK)}
    out["dropout"] = {"p": {}}
    return out


def _nearest(name: str, valid) -> str:
    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(valid)}"


def _check_option(where: str, key: str, value: Any, default: Any) -> Any:
    if key == "stages":
        return _parse_stages(where, value)
    if key == "only":
        if value is None:
            return None
        items = [value] if isinstance(value, str) else value
        kinds = set(_ACT_KINDS.values()) | set(_ACT_ALIASES)
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{where}: only must be an activation name or a list of them, got {value!r}")
        for i in items:
            if i.lower() not in kinds:
                raise ValueError(f"{where}: unknown activation '{i}' in only; {_nearest(i.lower(), kinds)}")
        return {_ACT_ALIASES.get(i.lower(), i.lower()) for i in items}
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    elif isinstance(default, float) or default is None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok or (default is None and value is None)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        kind = {bool: "true or false", int: "a positive integer", float: "a number", str: "a string"}.get(
            type(default), "a number or null")
        raise ValueError(f"{where}: {key} must be {kind}, got {value!r}")
    if key == "keep_prob" and not 0.0 < value <= 1.0:
        raise ValueError(f"{where}: keep_prob must be in (0, 1], got {value}")
    if key == "ratio" and not 0.0 < value < 1.0:
        raise ValueError(f"{where}: ratio must be in (0, 1), got {value}")
    if key == "filt_size" and not 1 <= value <= 7:
        raise ValueError(f"{where}: filt_size must be in 1..7, got {value}")
    if key == "pad_type" and value not in _PAD_MODES:
        raise ValueError(f"{where}: unknown pad_type '{value}'; {_nearest(value, _PAD_MODES)}")
    return value


def _parse_stages(where: str, value: Any) -> int | None:
    """``'all'`` → None; ``'lastN'`` or ``N`` → N (the N smallest output resolutions)."""
    if value == "all":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"last(\d+)", value)
        if m and int(m.group(1)) >= 1:
            return int(m.group(1))
    raise ValueError(f"{where}: stages must be 'all', 'lastN' (N >= 1) or a positive integer, got {value!r}")


def _parse_options(where: str, given: dict, defaults: dict) -> dict:
    opts = {}
    for k, v in given.items():
        if k not in defaults:
            valid = list(defaults) or ["(none)"]
            raise ValueError(f"{where}: unknown option '{k}'; {_nearest(k, valid)}")
        opts[k] = v
    out = {}
    for k, d in defaults.items():
        out[k] = _check_option(where, k, opts.get(k, d), d) if k in opts or k in ("stages", "only") else d
    return out


def _parse(tricks: Any) -> tuple[dict[str, tuple[str, dict]], dict]:
    """Validate the whole mapping before the model is touched: ``({trick: (type, options)}, settings)``."""
    if not isinstance(tricks, dict):
        raise TypeError(f"tricks must be a mapping of trick names to values, got {type(tricks).__name__}")
    plan: dict[str, tuple[str, dict]] = {}
    settings = dict(_SETTINGS)
    valid_keys = list(TRICK_ORDER) + list(_SETTINGS)
    for key, value in tricks.items():
        if key not in valid_keys:
            raise ValueError(f"unknown trick '{key}'; {_nearest(key, valid_keys)}")
        if key in _SETTINGS:
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"tricks.{key} must be a positive integer, got {value!r}")
            if value is not None:
                settings[key] = value
            continue
        if value is None or value is False or (key == "dropout" and value == 0):
            continue
        if key == "dropout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise ValueError(f"tricks.dropout must be a probability in (0, 1), got {value!r}")
            plan[key] = (f"{float(value):g}", {"p": float(value)})
        elif key == "drop_block":
            if value is True:
                value = {}
            if not isinstance(value, dict):
                raise ValueError(f"tricks.drop_block must be true or a mapping of options "
                                 f"({', '.join(_DROP_BLOCK)}), got {value!r}")
            plan[key] = ("dropblock", _parse_options("tricks.drop_block", value, _DROP_BLOCK))
        else:
            types = _TYPED[key]
            if isinstance(value, str):
                kind, given = value, {}
            elif isinstance(value, dict):
                if "type" not in value:
                    raise ValueError(f"tricks.{key}: a mapping needs a 'type' ({', '.join(sorted(types))})")
                given = dict(value)
                kind = given.pop("type")
            else:
                raise ValueError(f"tricks.{key} must be a type name or a mapping with a 'type', got {value!r}")
            if not isinstance(kind, str) or kind.lower() not in types:
                raise ValueError(f"tricks.{key}: unknown type '{kind}'; {_nearest(str(kind).lower(), types)}")
            kind = kind.lower()
            plan[key] = (kind, _parse_options(f"tricks.{key}={kind}", given, types[kind]))
    return plan, settings


# --------------------------------------------------------------------------------------------- report

@dataclass
class TrickResult:
    """What one trick changed: ``converted`` layers and ``skipped`` ones by reason."""

    trick: str
    kind: str
    converted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def line(self) -> str:
        s = f"tricks: {self.trick}={self.kind}: {self.converted} converted"
        if self.skipped:
            s += f", {self.num_skipped} skipped (" + "; ".join(f"{n}× {r}" for r, n in self.skipped.items()) + ")"
        return s


class TrickReport(list):
    """A list of :class:`TrickResult`, one per trick applied; ``str()`` gives one line each."""

    def __str__(self) -> str:
        return "\n".join(r.line() for r in self)

    def result(self, trick: str) -> TrickResult:
        for r in self:
            if r.trick == trick:
                return r
        raise KeyError(trick)


# --------------------------------------------------------------------------------------------- helpers

class PostOps(nn.Sequential):
    """The layers after the BN of a ConvBNAct (its ``.act`` slot): activation, attention, blur, DropBlock."""


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


# Layers whose insides the surgery never touches: tricks themselves and attention / gate modules.
_PROTECTED = (ACBlock, AconC, MetaAconC, BlurPool, MaxBlurPool, AddCoords, CoordConv, DeformableConv, DropBlock,
              _DyReLU, NAM, OctaveConv, OctaveConvBNAct, PyConv, SEModule, SKConv, SPConv, RSoftmax,
              SplitAttention, SpatialPyramidPooling)
_GATE_NAME = re.compile(r"(SE|SEModule|SELayer|Excitation|Attention|Gate)$|Squeeze")


def _is_protected(layer: nn.Layer) -> bool:
    if isinstance(layer, _PROTECTED):
        return True
    if isinstance(layer, ConvBNAct):
        return False
    return bool(_GATE_NAME.search(type(layer).__name__))


def _walk(layer: nn.Layer, prefix: str = "", into: Callable[[nn.Layer], bool] | None = None
          ) -> Iterator[tuple[nn.Layer, str, nn.Layer, str]]:
    """``(parent, name, child, path)`` for each sub-layer, depth-first in registration order.

    Protected layers are yielded but not entered; ``into(child)`` False also stops the descent.
    """
    for name, child in list(layer._sub_layers.items()):
        if child is None:
            continue
        path = f"{prefix}.{name}" if prefix else name
        yield layer, name, child, path
        if not _is_protected(child) and (into is None or into(child)):
            yield from _walk(child, path, into)


def _is_unit(layer: nn.Layer) -> bool:
    return isinstance(layer, ConvBNAct) and type(layer).forward is ConvBNAct.forward


def _units(model: nn.Layer) -> list[tuple[nn.Layer, str, ConvBNAct, str]]:
    return [(p, n, c, path) for p, n, c, path in _walk(model) if _is_unit(c)]


def _int_attr(objs, attrs) -> int | None:
    for obj in objs:
        for attr in attrs:
            v = getattr(obj, attr, None)
            if isinstance(v, int) and not isinstance(v, bool):
                return v
    return None


def _unit_out(unit: ConvBNAct) -> int | None:
    return _int_attr((unit.bn, unit.conv, getattr(unit.conv, "conv", None)),
                     ("_num_features", "_out_channels", "out_channels"))


@dataclass
class _Conv:
    """The geometry of a plain ``nn.Conv2D``."""

    cin: int
    cout: int
    k: int
    stride: int
    pad: int
    groups: int


def _plain_conv(conv: nn.Layer) -> _Conv | None:
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
    return _Conv(conv._in_channels, conv._out_channels, kh, sh, p, conv._groups)


def _restride(conv: nn.Conv2D) -> nn.Conv2D:
    """A copy of ``conv`` with stride 1 (same weights, padding, groups)."""
    new = nn.Conv2D(conv._in_channels, conv._out_channels, conv._kernel_size, stride=1, padding=conv._padding,
                    dilation=conv._dilation, groups=conv._groups, padding_mode=conv._padding_mode,
                    bias_attr=False if conv.bias is None else None, data_format=conv._data_format)
    new.weight.set_value(conv.weight)
    if conv.bias is not None:
        new.bias.set_value(conv.bias)
    return new


def _post_items(unit: ConvBNAct) -> list[nn.Layer]:
    act = unit.act
    items = list(act.children()) if isinstance(act, PostOps) else [act]
    return [i for i in items if not isinstance(i, nn.Identity)]


def _set_post(unit: ConvBNAct, items: list[nn.Layer]) -> None:
    unit.act = nn.Identity() if not items else items[0] if len(items) == 1 else PostOps(*items)


class _Skip(Exception):
    """A layer the trick cannot take (the message is the reason)."""


# --------------------------------------------------------------------------------------------- probe

class _Probe:
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
        layers = [c for _, _, c, _ in _walk(model)]
        handles = []

        def hook(layer, inputs, output):
            x = inputs[0] if isinstance(inputs, (tuple, list)) and inputs else inputs
            if isinstance(x, paddle.Tensor):
                self.inputs.setdefault(id(layer), []).append(list(x.shape))
            if isinstance(output, paddle.Tensor):
                self.outputs.setdefault(id(layer), []).append(list(output.shape))

        for layer in layers:
            handles.append(layer.register_forward_post_hook(hook))
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

    def smallest(self, units, n: int) -> set[tuple[int, int]]:
        """The ``n`` smallest distinct output resolutions of ``units``."""
        sizes = {hw for u in units if (hw := self.out_hw(u)) is not None}
        return set(sorted(sizes, key=lambda hw: (hw[0] * hw[1], hw))[:n])


class _Context:
    def __init__(self, model: nn.Layer, settings: dict):
        self.model = model
        self.settings = settings
        self._probe: _Probe | None = None

    @property
    def probe(self) -> _Probe:
        if self._probe is None:
            self._probe = _Probe(self.model, self.settings["input_size"], self.settings["in_channels"])
        return self._probe


def _stage_filter(ctx: _Context, units, n: int | None, res: TrickResult):
    """The units in the ``n`` smallest resolutions (all if ``n`` is None); the others are counted as skipped."""
    if n is None:
        return list(units)
    probe = ctx.probe
    allowed = probe.smallest([u for _, _, u, _ in _units(ctx.model)], n)
    kept = []
    for item in units:
        hw = probe.out_hw(item[2])
        if hw is None:
            res.skip("not called in the probe forward pass")
        elif hw in allowed:
            kept.append(item)
        else:
            res.skip(f"outside the last {n} stages")
    return kept


# --------------------------------------------------------------------------------------------- conv3x3

def _copy_bn(dst: nn.Layer, src: nn.Layer) -> None:
    for name in ("weight", "bias", "_mean", "_variance"):
        s, d = getattr(src, name, None), getattr(dst, name, None)
        if s is not None and d is not None and list(s.shape) == list(d.shape):
            d.set_value(s)


def _convert_conv(kind: str, opts: dict, unit: ConvBNAct, g: _Conv, stage: int | None,
                  in_hw: tuple[int, int] | None) -> None:
    conv = unit.conv
    if kind == "acblock":
        if not isinstance(unit.bn, nn.BatchNorm2D):
            raise _Skip("no BatchNorm2D to absorb (already folded?)")
        block = ACBlock(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, groups=g.groups,
                        gamma_init=opts["gamma_init"])
        block.square_conv.weight.set_value(conv.weight)
        if opts["gamma_init"] is None:
            _copy_bn(block.square_bn, unit.bn)
        unit.conv = block
        unit.bn = nn.Identity()
        return
    if g.groups != 1:
        raise _Skip("grouped or depthwise conv")
    if g.pad != g.k // 2:
        raise _Skip("padding is not k//2")
    try:
        if kind == "spconv":
            if g.stride == 2 and in_hw is not None and (in_hw[0] % 2 or in_hw[1] % 2):
                raise _Skip(f"SPConv: stride 2 needs an even map (its AvgPool(2) must match the strided 3x3), "
                            f"got {in_hw[0]}x{in_hw[1]}")
            unit.conv = SPConv(g.cin, g.cout, stride=g.stride, ratio=opts["ratio"])
        elif kind == "pyconv":
            unit.conv = PyConv.for_stage(g.cin, g.cout, stage, stride=g.stride)
        elif kind == "coordconv":
            new = CoordConv(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, with_r=opts["with_r"], bias=False)
            w = paddle.zeros(new.conv.weight.shape, dtype=conv.weight.dtype)
            w[:, :g.cin] = conv.weight
            new.conv.weight.set_value(w)
            unit.conv = new
        else:  # deformable, deformable_v2
            new = DeformableConv(g.cin, g.cout, g.k, stride=g.stride, padding=g.pad, groups=g.groups,
                                 deformable_groups=opts["deformable_groups"], modulated=kind == "deformable_v2")
            new.conv.weight.set_value(conv.weight)
            unit.conv = new
    except ValueError as e:  # the layer's message names the constraint and the values
        raise _Skip(str(e)) from None


def _apply_conv3x3(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    sizes = (3, 5) if kind == "acblock" else (3,)
    candidates = []
    for item in _units(ctx.model):
        g = _plain_conv(item[2].conv)
        if g is not None and g.k in sizes:
            candidates.append((item, g))
    kept = {id(i[2]) for i in _stage_filter(ctx, [c[0] for c in candidates], opts["stages"], res)}
    stage_of: dict[tuple[int, int], int] = {}
    if kind == "pyconv":
        order = sorted(ctx.probe.smallest([u for _, _, u, _ in _units(ctx.model)], 4),
                       key=lambda hw: hw[0] * hw[1])
        stage_of = {hw: 4 - i for i, hw in enumerate(order)}
    for (parent, name, unit, path), g in candidates:
        if id(unit) not in kept:
            continue
        stage = stage_of.get(ctx.probe.out_hw(unit), 1) if kind == "pyconv" else None
        in_hw = ctx.probe.in_hw(unit) if kind == "spconv" and g.stride == 2 else None
        try:
            _convert_conv(kind, opts, unit, g, stage, in_hw)
            res.converted += 1
        except _Skip as e:
            res.skip(str(e))


# --------------------------------------------------------------------------------------------- act

def _act_factory(kind: str, opts: dict) -> Callable[[int], nn.Layer]:
    o = {k: v for k, v in opts.items() if k != "only"}
    if kind == "dyrelu_a":
        return lambda c: DyReLUA(c, **o)
    if kind == "dyrelu_b":
        return lambda c: DyReLUB(c, **o)
    if kind == "dyrelu_c":
        return lambda c: DyReLUC(c, **o)
    if kind == "acon_c":
        return lambda c: AconC(c)
    if kind == "meta_acon_c":
        return lambda c: MetaAconC(c, **o)
    return lambda c: make_act(kind)


def _apply_act(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    make = _act_factory(kind, opts)
    kinds = opts["only"] or set(_ACT_KINDS.values())

    def is_target(layer):
        k = _ACT_KINDS.get(type(layer))
        return k is not None and k in kinds

    targets: list[tuple[nn.Layer, str, int | str]] = []  # (parent, name, channels or reason)
    seen: set[int] = set()
    for _, _, unit, _ in _units(ctx.model):
        c = _unit_out(unit)
        if is_target(unit.act):
            targets.append((unit, "act", c if c is not None else "unknown unit width"))
            seen.add(id(unit.act))
        elif isinstance(unit.act, PostOps):
            for n, layer in unit.act.named_children():
                if is_target(layer):
                    targets.append((unit.act, n, c if c is not None else "unknown unit width"))
                    seen.add(id(layer))
    others = [(p, n, c) for p, n, c, _ in _walk(ctx.model) if is_target(c) and id(c) not in seen
              and not isinstance(p, ConvBNAct)]
    for parent, name, layer in others:
        targets.append((parent, name, ctx.probe.in_channels(layer)))
    for parent, name, channels in targets:
        if isinstance(channels, str):
            res.skip(channels)
            continue
        try:
            new = make(channels)
        except ValueError as e:
            res.skip(str(e))
            continue
        parent._sub_layers[name] = new
        res.converted += 1


# --------------------------------------------------------------------------------------------- downsample

def _pool_stride(pool: nn.MaxPool2D) -> int | None:
    """The square stride of a max-pool (Paddle: ``stride=None`` means the kernel size); None if not square."""
    s = pool.ksize if pool.stride is None else pool.stride
    if isinstance(s, (list, tuple)):
        s = s[0] if len(set(s)) == 1 else None
    return s


def _blur_input_hw(probe: _Probe, job: str, layer: nn.Layer, info) -> tuple[int, int] | None:
    """Size of the map the new BlurPool will see (at the probe's input size)."""
    hw = probe.in_hw(layer)
    if hw is None:
        return None
    if job == "maxpool":
        k, p = layer.ksize, layer.padding
        if not isinstance(k, int) or not isinstance(p, int):
            return None
    elif info.k == 1 and not _post_items(layer):
        return hw  # projection shortcut: the blur runs on the unit's input
    else:
        k, p = info.k, info.pad
    return (hw[0] + 2 * p - k + 1, hw[1] + 2 * p - k + 1)


def _check_reflect(probe: _Probe, jobs, filt: int) -> None:
    """Reflect padding needs a map larger than the pad; say which layer is too small at ``input_size``."""
    pad = filt // 2  # ceil((filt - 1) / 2), the larger side
    for job, _, _, layer, info in jobs:
        hw = _blur_input_hw(probe, job, layer, info)
        if hw is not None and min(hw) <= pad:
            raise ValueError(
                f"tricks.downsample=blurpool: a {hw[0]}x{hw[1]} map at input_size={probe.size} is too small "
                f"for reflect padding of {pad} (filt_size={filt}); use pad_type: replicate (or zero), a smaller "
                f"filt_size or larger images (and set tricks.input_size to the training size)")


def _apply_downsample(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    probe = ctx.probe
    full = (probe.size, probe.size)
    filt, pad_type = opts["filt_size"], opts["pad_type"]
    jobs = []
    for parent, name, layer, _ in _walk(ctx.model, into=lambda l: not _is_unit(l)):
        if _is_unit(layer):
            g = _plain_conv(layer.conv)
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
    if pad_type in ("reflect", "refl"):
        _check_reflect(probe, jobs, filt)
    for job, parent, name, layer, info in jobs:
        if job == "maxpool":
            c, stride = info
            new = MaxBlurPool(c, kernel_size=2, filt_size=filt, stride=stride)
            new.blur = BlurPool(c, filt_size=filt, stride=stride, pad_type=pad_type)
            new.pool = nn.MaxPool2D(layer.ksize, stride=1, padding=layer.padding, ceil_mode=layer.ceil_mode)
            parent._sub_layers[name] = new
        else:
            g = info
            layer.conv = _restride(layer.conv)
            post = _post_items(layer)
            if g.k == 1 and not post:  # projection shortcut: blur first, as the official code
                parent._sub_layers[name] = nn.Sequential(
                    BlurPool(g.cin, filt_size=filt, stride=g.stride, pad_type=pad_type), layer)
            else:
                _set_post(layer, post + [BlurPool(g.cout, filt_size=filt, stride=g.stride, pad_type=pad_type)])
        res.converted += 1


# --------------------------------------------------------------------------------------------- attention

_SHORTCUT = re.compile(r"^(downsample|shortcut|skip|identity|short)", re.IGNORECASE)


def _blocks(model: nn.Layer) -> list[tuple[nn.Layer, ConvBNAct]]:
    """``(block, last ConvBNAct of its branch)`` for every block (see the module docstring)."""
    out = []
    for _, _, container, _ in _walk(model):
        if not isinstance(container, (nn.Sequential, nn.LayerList)) or isinstance(container, PostOps):
            continue
        for block in container.children():
            if (block is None or _is_unit(block) or _is_protected(block)
                    or isinstance(block, (nn.Sequential, nn.LayerList))):
                continue
            branch = [u for _, _, u, _ in _walk(block) if _is_unit(u)]
            shortcut = {id(u) for _, n, c, _ in _walk(block) if _SHORTCUT.match(n)
                        for u in [c] + c.sublayers() if _is_unit(u)}
            branch = [u for u in branch if id(u) not in shortcut]
            if len(branch) >= 2:
                out.append((block, branch[-1]))
    return out


def _apply_attention(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    for block, last in _blocks(ctx.model):
        c = _unit_out(last)
        if c is None:
            res.skip("unknown width of the last unit")
            continue
        try:
            attn = SEModule(c, reduction=opts["reduction"]) if kind == "se" else NAM(c)
        except ValueError as e:
            res.skip(str(e))
            continue
        _set_post(last, [attn] + _post_items(last))
        res.converted += 1


# --------------------------------------------------------------------------------------------- drop_block

def _apply_drop_block(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    units = _stage_filter(ctx, _units(ctx.model), opts["stages"], res)
    for _, _, unit, _ in units:
        _set_post(unit, _post_items(unit) + [DropBlock(opts["block_size"], opts["keep_prob"])])
        res.converted += 1


# --------------------------------------------------------------------------------------------- dropout

def _apply_dropout(ctx: _Context, kind: str, opts: dict, res: TrickResult) -> None:
    last = None
    for parent, name, layer, _ in _walk(ctx.model):
        if type(layer) is nn.Linear:
            last = (parent, name, layer)
    if last is None:
        return
    parent, name, lin = last
    new = DropoutLinear(lin.weight.shape[0], lin.weight.shape[1], p=opts["p"], bias=lin.bias is not None)
    new.weight.set_value(lin.weight)
    if lin.bias is not None:
        new.bias.set_value(lin.bias)
    parent._sub_layers[name] = new
    res.converted += 1


_APPLY = {"conv3x3": _apply_conv3x3, "act": _apply_act, "downsample": _apply_downsample,
          "attention": _apply_attention, "drop_block": _apply_drop_block, "dropout": _apply_dropout}


def apply_tricks(model: nn.Layer, tricks: dict, log: Callable[[str], Any] | None = print) -> nn.Layer:
    """Switch ``tricks`` on for ``model`` (in place) and return it; see the module docstring for the keys.

    Args:
        model: a network built from ConvBNAct units (any model of the zoo).
        tricks: ``{trick: type | {type: ..., option: ...} | null}``, plus the settings ``input_size``
            and ``in_channels`` of the probe forward pass.
        log: called with one line per trick (converted / skipped counts); ``None`` for silence.

    Returns:
        ``model``, changed in place; ``model.trick_report`` holds the :class:`TrickReport`.

    Raises:
        TypeError: ``tricks`` is not a mapping.
        ValueError: unknown trick, type or option (the message lists the valid ones) or a bad option value
            (raised before the model is touched), or a trick that finds nothing to convert in this model
            (the tricks before it in ``TRICK_ORDER`` are then already applied).
    """
    plan, settings = _parse(tricks)
    ctx = _Context(model, settings)
    report = TrickReport(getattr(model, "trick_report", None) or [])
    for trick in TRICK_ORDER:
        if trick not in plan:
            continue
        kind, opts = plan[trick]
        res = TrickResult(trick, kind)
        _APPLY[trick](ctx, kind, opts, res)
        if res.converted == 0:
            why = f" (skipped: {'; '.join(f'{n}× {r}' for r, n in res.skipped.items())})" if res.skipped else ""
            raise ValueError(f"tricks.{trick}={kind} found nothing to convert in {type(model).__name__}{why}")
        report.append(res)
        if log is not None:
            log(res.line())
    object.__setattr__(model, "trick_report", report)
    return model
