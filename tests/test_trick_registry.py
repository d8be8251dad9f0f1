"""A new activation, attention or downsampling trick is one registration: switchable from a config
(and from the model constructors) without touching the surgery. Each test registers its trick here."""
import os

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from helpers import randomise_bn
from paddle_tricks.config import load_config
from paddle_tricks.errors import ConfigError
from paddle_tricks.layers import ATTENTIONS, ACTIVATIONS, SurgeryLeaf, create_act, register_act, register_attn
from paddle_tricks.models import build_network, create_model
from paddle_tricks.tricks import Downsampler, apply_tricks, available_tricks, register_downsample
from paddle_tricks.tricks.downsample import DOWNSAMPLERS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "configs", "ablations", "base_resnet18_shapes.yaml")


class ScaledGate(SurgeryLeaf, nn.Layer):
    """Test attention: ``x * relu(scale)`` with a ReLU inside, which the surgery must leave alone."""

    def __init__(self, channels, init=1.0):
        super().__init__()
        self.scale = self.create_parameter([1, channels, 1, 1], default_initializer=nn.initializer.Constant(init))
        self.relu = nn.ReLU()

    def forward(self, x):
        return x * self.relu(self.scale)


class ShiftedReLU(nn.Layer):
    """Test channel-wise activation: ``relu(x - shift)`` with a learnable per-channel shift."""

    def __init__(self, channels, shift=0.0):
        super().__init__()
        self.shift = self.create_parameter([1, channels, 1, 1], default_initializer=nn.initializer.Constant(shift))

    def forward(self, x):
        return nn.functional.relu(x - self.shift)


@pytest.fixture
def registered():
    register_attn("test_gate", init=1.0)(ScaledGate)
    register_act("test_shifted_relu", channels=True, trick_options={"shift": 0.0})(ShiftedReLU)
    register_downsample("test_avg", Downsampler(lambda c, s, o: nn.AvgPool2D(s, s)))
    yield
    ATTENTIONS.unregister("test_gate")
    ACTIVATIONS.unregister("test_shifted_relu")
    DOWNSAMPLERS.unregister("test_avg")


def _build(tmp_path, tricks: str, key: str = "tricks"):
    cfg = tmp_path / "trick.yaml"
    cfg.write_text(f"_base_: {BASE}\nArch: {{{key}: {tricks}}}\n")
    return build_network(load_config(str(cfg)))


def _eval(net, x):
    net.eval()
    with paddle.no_grad():
        return net(x).numpy()


def test_registered_types_are_listed_and_checked(registered):
    avail = available_tricks()
    assert avail["attention"]["test_gate"] == {"init": 1.0}
    assert avail["act"]["test_shifted_relu"] == {"shift": 0.0, "only": None}
    assert avail["downsample"]["test_avg"] == {"blur_stem": False}
    with pytest.raises(ValueError, match=r"unknown option 'nit'; did you mean 'init'"):
        apply_tricks(create_model("resnet18", num_classes=4), {"attention": {"type": "test_gate", "nit": 2}})


def test_registered_attention_from_config_and_constructor(registered, tmp_path):
    net = _build(tmp_path, "{attention: {type: test_gate, init: 0.5}, input_size: 40}")
    gates = [l for l in net.sublayers() if isinstance(l, ScaledGate)]
    assert net.trick_report.result("attention").converted == len(gates) == 8
    assert all(float(g.scale.mean()) == 0.5 for g in gates)
    # the constructor route puts the same layer at the same place (branch end, before the add)
    by_name = create_model("resnet18", num_classes=16, attn_layer="test_gate")
    assert sum(isinstance(l, ScaledGate) for l in by_name.sublayers()) == 8
    by_options = _build(tmp_path, "{attn_layer: test_gate}", key="options")  # Arch.options of a config
    assert sum(isinstance(l, ScaledGate) for l in by_options.sublayers()) == 8
    plain = create_model("resnet18", num_classes=16)
    randomise_bn(plain)
    by_name.set_state_dict({k: v for k, v in plain.state_dict().items()})  # attention scales stay 1
    by_trick = apply_tricks(create_model("resnet18", num_classes=16), {"attention": "test_gate"}, log=None)
    by_trick.set_state_dict({k: v for k, v in plain.state_dict().items()})
    x = paddle.randn([2, 3, 32, 32])
    np.testing.assert_allclose(_eval(by_trick, x), _eval(by_name, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_eval(by_trick, x), _eval(plain, x), rtol=1e-5, atol=1e-5)  # scale 1: identity
    # a leaf is not entered: the act trick leaves the ReLU inside each gate alone
    apply_tricks(by_trick, {"act": "silu"}, log=None)
    assert all(type(g.relu) is nn.ReLU for g in by_trick.sublayers() if isinstance(g, ScaledGate))


def test_registered_activation_from_config_and_constructor(registered, tmp_path):
    net = _build(tmp_path, "{act: {type: test_shifted_relu, shift: 0.0}, input_size: 40}")
    assert net.trick_report.result("act").converted == sum(isinstance(l, ShiftedReLU) for l in net.sublayers())
    assert not any(type(l) is nn.ReLU for l in net.sublayers())
    plain = create_model("resnet18", num_classes=4)
    randomise_bn(plain)
    shifted = apply_tricks(create_model("resnet18", num_classes=4), {"act": "test_shifted_relu"}, log=None)
    shifted.set_state_dict(plain.state_dict())
    x = paddle.randn([2, 3, 32, 32])
    np.testing.assert_allclose(_eval(shifted, x), _eval(plain, x), rtol=1e-5, atol=1e-5)  # shift 0 = ReLU
    assert isinstance(create_model("resnet18", num_classes=4, act="test_shifted_relu").layer1[0].act, ShiftedReLU)
    assert isinstance(create_act("test_shifted_relu", channels=3, shift=1.0), ShiftedReLU)


def test_registered_downsampling_from_config(registered, tmp_path):
    net = _build(tmp_path, "{downsample: test_avg, input_size: 40}")
    plain = create_model("resnet18", num_classes=16)
    res = net.trick_report.result("downsample")
    assert res.converted == 7 and res.skipped == {"stem conv on the input image (blur_stem: false)": 1}
    # the strides moved into the new pools: every stage keeps its feature-map size
    assert net.layer2[0].conv1.conv._stride == [1, 1] and isinstance(net.layer2[0].conv1.act[-1], nn.AvgPool2D)
    assert isinstance(net.layer2[0].downsample[0], nn.AvgPool2D)
    assert isinstance(net.maxpool[0], nn.MaxPool2D) and isinstance(net.maxpool[1], nn.AvgPool2D)
    x = paddle.randn([1, 3, 64, 64])  # even maps: AvgPool(2) and the strided 3x3 agree
    assert net.forward_features(x).shape == plain.forward_features(x).shape == [1, 512, 2, 2]


def test_unregistered_names_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"^Arch\.tricks.*attention: unknown type 'test_gate'; valid: nam, se$"):
        _build(tmp_path, "{attention: test_gate}")
    with pytest.raises(ConfigError, match=r"^Arch\.options.*'test_gate'"):
        _build(tmp_path, "{attn_layer: test_gate}", key="options")
