"""create_act / create_attn: one name table per kind, one hard sigmoid, and the surgery leaves."""
import inspect
import sys

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

import paddle_tricks.layers as L
from paddle_tricks.layers import (NAM, ConvBNAct, DyReLUB, HardSigmoid, MetaAconC, SEModule, SurgeryLeaf,
                                  create_act, create_attn)
from paddle_tricks.models import create_model
from paddle_tricks.tricks import apply_tricks


@pytest.mark.parametrize("name,cls", [("relu", nn.ReLU), ("relu6", nn.ReLU6), ("hardswish", nn.Hardswish),
                                      ("hswish", nn.Hardswish), ("swish", nn.Swish), ("silu", nn.Silu),
                                      ("mish", nn.Mish), ("gelu", nn.GELU), ("elu", nn.ELU),
                                      ("sigmoid", nn.Sigmoid), ("HSwish", nn.Hardswish)])
def test_create_act_plain_names(name, cls):
    assert type(create_act(name)) is cls


def test_create_act_arguments_factories_and_channels():
    assert create_act("leaky_relu")._negative_slope == 0.1
    assert isinstance(create_act(None), nn.Identity) and isinstance(create_act(False), nn.Identity)
    assert isinstance(create_act(lambda: nn.Tanh()), nn.Tanh)
    dy = create_act("dyrelu_b", channels=8, reduction=2)
    assert isinstance(dy, DyReLUB) and dy.fc1.weight.shape == [8, 4]
    assert isinstance(create_act("meta_acon_c", channels=16), MetaAconC)
    with pytest.raises(ValueError, match="channel-wise"):
        create_act("dyrelu_b")
    with pytest.raises(ValueError, match=r"unknown activation 'tanhh'.*'relu'"):
        create_act("tanhh")
    # a ConvBNAct hands its width to a channel-wise activation
    unit = ConvBNAct(3, 8, act="dyrelu_b")
    assert isinstance(unit.act, DyReLUB) and unit.act.channels == 8


def test_one_hard_sigmoid_is_exactly_mobilenet_v3():
    x = paddle.to_tensor(np.linspace(-5, 5, 1001, dtype="float32"))
    hs = create_act("hard_sigmoid")
    assert type(hs) is HardSigmoid
    np.testing.assert_array_equal(hs(x).numpy(), (F.relu6(x + 3.0) / 6.0).numpy())  # bit for bit
    np.testing.assert_allclose(create_act("paddle_hard_sigmoid")(x).numpy(),
                               np.clip(0.2 * x.numpy() + 0.5, 0, 1), atol=1e-6)
    # the AsymmNet SE gate and SEModule's hard gate are the same class
    net = create_model("asymmnet_small", num_classes=4)
    gates = {type(l) for l in net.sublayers() if type(l).__name__.endswith("SE") for l in [l.gate]}
    assert gates == {HardSigmoid}
    assert type(SEModule(16, gate="hard_sigmoid").gate) is HardSigmoid
    modules = [m for n, m in sys.modules.items() if n.startswith("paddle_tricks.")]  # models imported above
    hard_sigmoids = {c for m in modules for c in vars(m).values()
                     if inspect.isclass(c) and c.__name__.lower().lstrip("_") in ("hardsigmoid", "hard_sigmoid")}
    assert hard_sigmoids == {HardSigmoid}


def test_create_attn_names_factories_and_errors():
    se = create_attn("se", 64, reduction=8)
    assert isinstance(se, SEModule) and se.rd_channels == 8
    assert isinstance(create_attn("NAM", 16), NAM)
    assert isinstance(create_attn(None, 16), nn.Identity)
    assert isinstance(create_attn(lambda c: nn.BatchNorm2D(c), 16), nn.BatchNorm2D)
    with pytest.raises(ValueError, match=r"unknown attention layer 'cbam'.*nam.*se"):
        create_attn("cbam", 16)


@pytest.mark.parametrize("attn", ["se", "nam"])
def test_constructor_and_config_route_build_the_same_net(attn):
    by_name = create_model("resnet18", num_classes=4, attn_layer=attn)
    by_trick = apply_tricks(create_model("resnet18", num_classes=4), {"attention": attn}, log=None)
    cls = SEModule if attn == "se" else NAM
    blocks = [b for stage in (by_name.layer1, by_name.layer2, by_name.layer3, by_name.layer4) for b in stage]
    assert all(isinstance(b.attn, cls) for b in blocks) and len(blocks) == 8
    assert sum(isinstance(l, cls) for l in by_trick.sublayers()) == 8

    def shapes(net):
        return sorted(tuple(p.shape) for p in net.parameters())

    assert shapes(by_name) == shapes(by_trick)


def test_constructor_and_config_route_put_the_same_activations():
    by_name = create_model("resnet18", num_classes=4, act="dyrelu_b")
    by_trick = apply_tricks(create_model("resnet18", num_classes=4), {"act": "dyrelu_b", "input_size": 32}, log=None)
    assert by_trick.trick_report[0].converted == 17
    sd_name, sd_trick = by_name.state_dict(), by_trick.state_dict()
    assert list(sd_name) == list(sd_trick)
    assert all(sd_name[k].shape == sd_trick[k].shape for k in sd_name)


# layers of the library that hold sub-layers the surgery may convert (they are built from ConvBNActs)
NOT_LEAVES = {"ConvBNAct", "ConvBlurPool", "CSPStage", "BatchNormScratch", "HardSigmoid"}


def test_every_trick_layer_declares_itself_a_surgery_leaf():
    layer_classes = {n: c for n, c in vars(L).items() if inspect.isclass(c) and issubclass(c, nn.Layer)}
    assert NOT_LEAVES <= set(layer_classes)
    leaves = {n for n, c in layer_classes.items() if issubclass(c, SurgeryLeaf)}
    assert leaves == set(layer_classes) - NOT_LEAVES
    assert {"ACBlock", "BlurPool", "SEModule", "NAM", "DyReLUA", "SplitAttention", "SKConv"} <= leaves
