"""CSPStage (arXiv 1911.11929): shapes, half-width blocks, exact params/MAdds vs the plain stage,
composition of the parts, export."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.layers import CSPStage
from paddle_tricks.layers.conv_bn import ConvBNAct
from helpers import assert_export_roundtrip


class Basic(nn.Layer):
    """Residual basic block (two 3×3 ConvBNAct) used as the block factory."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvBNAct(c, c, 3)
        self.conv2 = ConvBNAct(c, c, 3, act=None)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.conv2(self.conv1(x)))


def n_trainable(layer):
    return sum(int(np.prod(p.shape)) for p in layer.parameters() if not p.stop_gradient)


def conv_madds(layer, x):
    total = [0]

    def hook(conv, _inp, out):
        w = conv.weight.shape
        total[0] += int(np.prod(out.shape[1:])) * w[1] * w[2] * w[3]

    handles = [m.register_forward_post_hook(hook) for m in layer.sublayers() if isinstance(m, nn.Conv2D)]
    layer(x)
    for h in handles:
        h.remove()
    return total[0]


class PlainStage(nn.Sequential):
    def __init__(self, cin, cout, n, stride=2):
        super().__init__(ConvBNAct(cin, cout, 3, stride=stride), *[Basic(cout) for _ in range(n)])


@pytest.mark.parametrize("stride", [1, 2])
def test_shapes(stride):
    stage = CSPStage(8, 16, 2, Basic, stride=stride)
    assert stage(paddle.randn([2, 8, 8, 8])).shape == [2, 16, 8 // stride, 8 // stride]
    assert CSPStage(4, 6, 0, Basic)(paddle.randn([1, 4, 6, 6])).shape == [1, 6, 3, 3]


def test_block_factory_called_with_half_width():
    calls = []

    def factory(c):
        calls.append(c)
        return Basic(c)

    stage = CSPStage(8, 24, 3, factory)
    assert calls == [12, 12, 12]
    assert len(stage.blocks) == 3


@pytest.mark.parametrize("cin,c,n", [(8, 16, 1), (16, 32, 2), (4, 8, 3)])
def test_fewer_params_and_madds_than_plain_stage(cin, c, n):
    h = c // 2
    csp, plain = CSPStage(cin, c, n, Basic), PlainStage(cin, c, n)
    block = lambda w: 18 * w * w + 4 * w  # noqa: E731  two 3x3 convs (no bias) + two BNs (γ, β)
    down = 9 * cin * c + 2 * c
    expected_csp = down + 2 * (c * h + 2 * h) + n * block(h) + (h * h + 2 * h) + (2 * h * c + 2 * c)
    expected_plain = down + n * block(c)
    assert n_trainable(csp) == expected_csp
    assert n_trainable(plain) == expected_plain
    assert expected_csp < expected_plain

    hw = 8
    x = paddle.randn([1, cin, hw, hw])
    area = (hw // 2) ** 2
    madds_csp = area * (9 * cin * c + 2 * c * h + n * 18 * h * h + h * h + 2 * h * c)
    madds_plain = area * (9 * cin * c + n * 18 * c * c)
    assert conv_madds(csp, x) == madds_csp
    assert conv_madds(plain, x) == madds_plain
    assert madds_csp < madds_plain


def test_forward_is_the_cross_stage_partial_composition():
    stage = CSPStage(6, 8, 2, Basic)
    stage.eval()
    x = paddle.randn([2, 6, 8, 8])
    d = stage.down(x)
    a = stage.part_a(d)
    b = stage.trans_b(stage.blocks[1](stage.blocks[0](stage.part_b(d))))
    ref = stage.fuse(paddle.concat([a, b], axis=1))
    np.testing.assert_allclose(stage(x).numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    # two separate 1x1 convs make the halves; the fusion sees both (C = 2 x C/2 inputs)
    assert stage.fuse.conv.weight.shape == [8, 8, 1, 1]
    assert stage.part_a.conv.weight.shape == [4, 8, 1, 1] and stage.part_b.conv.weight.shape == [4, 8, 1, 1]


def test_every_transition_is_conv_bn_act():
    stage = CSPStage(4, 8, 1, Basic, act="leaky_relu")
    for name in ("down", "part_a", "part_b", "trans_b", "fuse"):
        unit = getattr(stage, name)
        assert isinstance(unit, ConvBNAct) and isinstance(unit.act, nn.LeakyReLU), name


def test_bad_arguments():
    with pytest.raises(ValueError, match="out_channels=7 must be positive and even"):
        CSPStage(4, 7, 1, Basic)
    with pytest.raises(ValueError, match="num_blocks=-1"):
        CSPStage(4, 8, -1, Basic)
    with pytest.raises(ValueError, match=r"block_fn\(4\) must return a paddle.nn.Layer"):
        CSPStage(4, 8, 1, lambda c: None)


def test_forward_backward():
    stage = CSPStage(4, 8, 1, Basic)
    x = paddle.randn([2, 4, 8, 8])
    x.stop_gradient = False
    out = stage(x)
    (out * paddle.randn(out.shape)).sum().backward()
    assert float(x.grad.abs().sum()) > 0
    for name, p in stage.named_parameters():
        if not p.stop_gradient:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_jit_export_roundtrip(tmp_path):
    assert_export_roundtrip(CSPStage(4, 8, 2, Basic), paddle.randn([2, 4, 8, 8]), tmp_path, dynamic_hw=True, atol=1e-5)