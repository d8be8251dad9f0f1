"""Classic CNNs in the forms of "Dive into Deep Learning" (d2l, ch. 7-8) for Fashion-MNIST, plus VGG-16/19.

Papers:
* LeNet-5: LeCun Y. et al., "Gradient-based learning applied to document recognition", Proc. IEEE 1998.
* AlexNet: Krizhevsky A., Sutskever I., Hinton G., "ImageNet Classification with Deep Convolutional
  Neural Networks", NeurIPS 2012.
* VGG: Simonyan K., Zisserman A., "Very Deep Convolutional Networks for Large-Scale Image Recognition",
  ICLR 2015, arXiv 1409.1556.
* NiN: Lin M., Chen Q., Yan S., "Network In Network", ICLR 2014, arXiv 1312.4400.
* GoogLeNet: Szegedy C. et al., "Going Deeper with Convolutions", CVPR 2015, arXiv 1409.4842.
* LeNet-BN: Ioffe S., Szegedy C., "Batch Normalization", ICML 2015, arXiv 1502.03167.

The d2l forms differ from the papers on purpose, as in the book: LeNet keeps sigmoid and average pooling
but has no Gaussian connections or sparse C3 table; AlexNet is single-stream, without local response
normalisation, for 1-channel 224x224 inputs; NiN ends with a NiN block of ``num_classes`` channels and global
average pooling; GoogLeNet has no auxiliary classifiers nor LRN and is meant for 96x96 inputs. The d2l
training loop initialises every conv and linear weight with Xavier-uniform: ``init='xavier'`` (the default of
the d2l forms) does the same; ``init='default'`` keeps Paddle's initialisers.

The nets are flat ``nn.Sequential``s whose top-level children are the rows that d2l prints
(``paddle_tricks.utils.summary.print_layer_shapes`` reproduces those tables). The classifier input size of
LeNet, AlexNet and VGG is computed from ``input_size`` (28 or 224 as in the book) so that smaller inputs work
too; ``input_size=None`` gives VGG an adaptive 7x7 average pool instead (the ``paddle.vision`` form, used by
``vgg16``/``vgg19``, whose parameter counts equal ``paddle.vision.models.vgg16/19``).
"""
from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn as nn

from ..layers.batchnorm_scratch import BatchNormScratch
from ..layers.conv_bn import ConvBNAct
from .registry import IMAGENET, d2l_cfg, register_model

__all__ = ["Inception", "init_xavier", "vgg", "vgg_block", "nin_block", "VGG_ARCHS"]


def init_xavier(model: nn.Layer) -> nn.Layer:
    """Xavier-uniform weights for every ``Conv2D`` and ``Linear`` (d2l's ``train_ch6`` initialisation)."""
    init = nn.initializer.XavierUniform()
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, (nn.Conv2D, nn.Linear)):
            init(layer.weight)
    return model


def _check_init(init: str) -> None:
    if init not in ("xavier", "default"):
        raise ValueError(f"unknown init '{init}'; choose 'xavier' or 'default'")


def apply_init(model: nn.Layer, init: str) -> nn.Layer:
    _check_init(init)
    return init_xavier(model) if init == "xavier" else model


def _out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    size = (size + 2 * padding - kernel) // stride + 1
    if size < 1:
        raise ValueError("input_size is too small for this network")
    return size


# ----------------------------------------------------------------------------------------------- LeNet
@register_model(d2l_cfg(28, min_input_size=28))
def lenet(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, init: str = "xavier") -> nn.Sequential:
    """LeNet-5 (d2l form): two 5x5 conv + sigmoid + 2x2 average-pool stages (6, 16 channels), FC 120-84.

    Args:
        num_classes: outputs.
        in_channels: image channels.
        input_size: square input size (28 for Fashion-MNIST; the first conv pads by 2).
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    s = _out(_out(_out(input_size, 5, padding=2), 2, 2), 5)
    s = _out(s, 2, 2)
    net = nn.Sequential(
        nn.Conv2D(in_channels, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2D(2, stride=2),
        nn.Conv2D(6, 16, 5), nn.Sigmoid(), nn.AvgPool2D(2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * s * s, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes))
    return apply_init(net, init)


@register_model(d2l_cfg(28, min_input_size=28))
def lenet_bn(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, bn: str = "paddle",
             init: str = "xavier") -> nn.Sequential:
    """LeNet with batch normalisation after every conv and hidden FC (d2l form: unpadded first conv).

    Args:
        num_classes: outputs.
        in_channels: image channels.
        input_size: square input size.
        bn: ``'paddle'`` (``nn.BatchNorm1D/2D``) or ``'scratch'`` (``BatchNormScratch``, as the book builds it).
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    if bn not in ("paddle", "scratch"):
        raise ValueError(f"lenet_bn: bn must be 'paddle' or 'scratch', got '{bn}'")

    def norm(c: int, dims: int) -> nn.Layer:
        if bn == "scratch":
            return BatchNormScratch(c)
        return nn.BatchNorm1D(c) if dims == 1 else nn.BatchNorm2D(c)

    s = _out(_out(_out(_out(input_size, 5), 2, 2), 5), 2, 2)
    conv1 = ConvBNAct(in_channels, 6, 5, padding=0, act="sigmoid")
    conv2 = ConvBNAct(6, 16, 5, padding=0, act="sigmoid")
    if bn == "scratch":
        conv1.bn, conv2.bn = norm(6, 2), norm(16, 2)
    net = nn.Sequential(
        conv1, nn.AvgPool2D(2, stride=2),
        conv2, nn.AvgPool2D(2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * s * s, 120), norm(120, 1), nn.Sigmoid(),
        nn.Linear(120, 84), norm(84, 1), nn.Sigmoid(),
        nn.Linear(84, num_classes))
    return apply_init(net, init)


# --------------------------------------------------------------------------------------------- AlexNet
@register_model(d2l_cfg(224, min_input_size=67))
def alexnet(num_classes: int = 10, in_channels: int = 1, input_size: int = 224, dropout: float = 0.5,
            init: str = "xavier") -> nn.Sequential:
    """AlexNet (d2l form): 11x11/4 (96) → 5x5 (256) → 3x3 (384, 384, 256), max-pools, FC 4096-4096.

    Args:
        num_classes: outputs.
        in_channels: image channels.
        input_size: square input size (224 in d2l; at least 65).
        dropout: dropout of the two hidden FC layers.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    s = _out(_out(input_size, 11, 4, 1), 3, 2)
    s = _out(_out(s, 5, 1, 2), 3, 2)
    s = _out(s, 3, 2)
    net = nn.Sequential(
        nn.Conv2D(in_channels, 96, 11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2D(3, stride=2),
        nn.Conv2D(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2D(3, stride=2),
        nn.Conv2D(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2D(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2D(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2D(3, stride=2),
        nn.Flatten(),
        nn.Linear(256 * s * s, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes))
    return apply_init(net, init)


# ------------------------------------------------------------------------------------------------- VGG
VGG_ARCHS: dict[str, tuple[tuple[int, int], ...]] = {
    "vgg11": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    "vgg13": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    "vgg16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    "vgg19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}


def vgg_block(num_convs: int, in_channels: int, out_channels: int, batch_norm: bool = False) -> nn.Sequential:
    """``num_convs`` 3x3 convs (+ BN) + ReLU, then a 2x2 max-pool that halves the resolution."""
    layers = []
    for _ in range(num_convs):
        if batch_norm:
            layers.append(ConvBNAct(in_channels, out_channels, 3))
        else:
            layers += [nn.Conv2D(in_channels, out_channels, 3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2D(2, stride=2))
    return nn.Sequential(*layers)


def vgg(conv_arch: Sequence[tuple[int, int]], num_classes: int = 10, in_channels: int = 1,
        input_size: int | None = 224, batch_norm: bool = False, hidden: int = 4096, dropout: float = 0.5,
        init: str = "xavier") -> nn.Sequential:
    """A VGG net from ``conv_arch = ((num_convs, channels), ...)``, one block (and one 2x pooling) per pair.

    Args:
        conv_arch: the blocks, e.g. ``((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))`` for VGG-11.
        num_classes: outputs.
        in_channels: image channels.
        input_size: square input size, used to size the first FC; ``None`` inserts an adaptive 7x7
            average pool instead (any input size, as ``paddle.vision``).
        batch_norm: conv → BN → ReLU units instead of biased conv → ReLU.
        hidden: width of the two hidden FC layers.
        dropout: their dropout.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    _check_init(init)
    blocks = []
    c = in_channels
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, c, out_channels, batch_norm))
        c = out_channels
    if input_size is None:
        blocks.append(nn.AdaptiveAvgPool2D(7))
        s = 7
    else:
        s = input_size
        for _ in conv_arch:
            s = _out(s, 2, 2)
    net = nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(c * s * s, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes))
    return apply_init(net, init)


@register_model(d2l_cfg(224), options_from=(vgg,))
def vgg11(num_classes: int = 10, in_channels: int = 1, input_size: int | None = 224, **options) -> nn.Sequential:
    """VGG-11 (d2l form: 1-channel 224x224 input, Xavier init)."""
    return vgg(VGG_ARCHS["vgg11"], num_classes, in_channels, input_size, **options)


@register_model(d2l_cfg(224), options_from=(vgg,))
def vgg11_small(num_classes: int = 10, in_channels: int = 1, input_size: int | None = 224, ratio: int = 4,
                **options) -> nn.Sequential:
    """The narrow VGG-11 that d2l trains: every block's channels divided by ``ratio`` (4)."""
    arch = [(n, c // ratio) for n, c in VGG_ARCHS["vgg11"]]
    return vgg(arch, num_classes, in_channels, input_size, **options)


@register_model(IMAGENET, options_from=(vgg,))
def vgg16(num_classes: int = 1000, in_channels: int = 3, input_size: int | None = None,
          init: str = "default", **options) -> nn.Sequential:
    """VGG-16 (configuration D); ``paddle.vision`` form, 138.36 M parameters at 1000 classes."""
    return vgg(VGG_ARCHS["vgg16"], num_classes, in_channels, input_size, init=init, **options)


@register_model(IMAGENET, options_from=(vgg,))
def vgg19(num_classes: int = 1000, in_channels: int = 3, input_size: int | None = None,
          init: str = "default", **options) -> nn.Sequential:
    """VGG-19 (configuration E); ``paddle.vision`` form, 143.67 M parameters at 1000 classes.
    ``batch_norm=True`` gives conv → BN → ReLU units (convs without bias)."""
    return vgg(VGG_ARCHS["vgg19"], num_classes, in_channels, input_size, init=init, **options)


# ------------------------------------------------------------------------------------------------- NiN
def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    """A ``kernel_size`` conv followed by two 1x1 convs ("per-pixel MLP"), each with ReLU."""
    return nn.Sequential(
        nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding), nn.ReLU(),
        nn.Conv2D(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2D(out_channels, out_channels, 1), nn.ReLU())


@register_model(d2l_cfg(224, min_input_size=67))
def nin(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5, init: str = "xavier") -> nn.Sequential:
    """Network in Network (d2l form, 224x224 input; inputs of at least 67 pixels work).

    Args:
        num_classes: outputs (channels of the last NiN block).
        in_channels: image channels.
        dropout: dropout before the last block.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    net = nn.Sequential(
        nin_block(in_channels, 96, 11, 4, 0), nn.MaxPool2D(3, stride=2),
        nin_block(96, 256, 5, 1, 2), nn.MaxPool2D(3, stride=2),
        nin_block(256, 384, 3, 1, 1), nn.MaxPool2D(3, stride=2),
        nn.Dropout(dropout),
        nin_block(384, num_classes, 3, 1, 1),
        nn.AdaptiveAvgPool2D(1), nn.Flatten())
    return apply_init(net, init)


# ------------------------------------------------------------------------------------------- GoogLeNet
class Inception(nn.Layer):
    """Inception v1 block: 1x1 | 1x1→3x3 | 1x1→5x5 | 3x3 max-pool→1x1, concatenated on channels.

    Args:
        in_channels: input channels.
        c1: channels of the 1x1 path.
        c2: (reduce, out) channels of the 3x3 path.
        c3: (reduce, out) channels of the 5x5 path.
        c4: channels of the pool-projection path.
    """

    def __init__(self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int):
        super().__init__()
        self.p1 = nn.Sequential(nn.Conv2D(in_channels, c1, 1), nn.ReLU())
        self.p2 = nn.Sequential(nn.Conv2D(in_channels, c2[0], 1), nn.ReLU(),
                                nn.Conv2D(c2[0], c2[1], 3, padding=1), nn.ReLU())
        self.p3 = nn.Sequential(nn.Conv2D(in_channels, c3[0], 1), nn.ReLU(),
                                nn.Conv2D(c3[0], c3[1], 5, padding=2), nn.ReLU())
        self.p4 = nn.Sequential(nn.MaxPool2D(3, stride=1, padding=1),
                                nn.Conv2D(in_channels, c4, 1), nn.ReLU())
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x):
        return paddle.concat([self.p1(x), self.p2(x), self.p3(x), self.p4(x)], axis=1)


@register_model(d2l_cfg(96))
def googlenet(num_classes: int = 10, in_channels: int = 1, init: str = "xavier") -> nn.Sequential:
    """GoogLeNet (d2l form: five stages of Inception v1 blocks, no auxiliary heads; 96x96 input in d2l,
    inputs of at least 32 pixels work).

    Args:
        num_classes: outputs.
        in_channels: image channels.
        init: ``'xavier'`` (d2l) or ``'default'``.
    """
    b1 = nn.Sequential(nn.Conv2D(in_channels, 64, 7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2D(3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2D(64, 64, 1), nn.ReLU(),
                       nn.Conv2D(64, 192, 3, padding=1), nn.ReLU(),
                       nn.MaxPool2D(3, stride=2, padding=1))
    b3 = nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                       Inception(256, 128, (128, 192), (32, 96), 64),
                       nn.MaxPool2D(3, stride=2, padding=1))
    b4 = nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                       Inception(512, 160, (112, 224), (24, 64), 64),
                       Inception(512, 128, (128, 256), (24, 64), 64),
                       Inception(512, 112, (144, 288), (32, 64), 64),
                       Inception(528, 256, (160, 320), (32, 128), 128),
                       nn.MaxPool2D(3, stride=2, padding=1))
    b5 = nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                       Inception(832, 384, (192, 384), (48, 128), 128),
                       nn.AdaptiveAvgPool2D(1), nn.Flatten())
    net = nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(1024, num_classes))
    return apply_init(net, init)
