"""PyConv (arXiv 2006.11538): stage presets, splits, parameter counts, per-level equality, export."""
import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from paddle_tricks.layers import PyConv
from helpers import assert_export_roundtrip

PRESETS = {  # stage: (kernels, groups, output shares in quarters) from the paper / official code
    1: ([3, 5, 7, 9], [1, 4, 8, 16], [1, 1, 1, 1]),
    2: ([3, 5, 7], [1, 4, 8], [1, 1, 2]),
    3: ([3, 5], [1, 4], [2, 2]),
    4: ([3], [1], [4]),
}


def n_trainable(layer):
    return sum(int(np.prod(p.shape)) for p in layer.parameters() if not p.stop_gradient)


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_stage_preset_levels_and_parameter_count(stage):
    cin, cout = 16, 64
    layer = PyConv.for_stage(cin, cout, stage)
    kernels, groups, quarters = PRESETS[stage]
    expected_out = [cout * q // 4 for q in quarters]
    assert layer.level_channels == expected_out and layer.out_channels == cout
    assert [lv._kernel_size[0] for lv in layer.levels] == kernels
    assert [lv._groups for lv in layer.levels] == groups
    assert [lv._padding for lv in layer.levels] == [k // 2 for k in kernels]
    assert all(lv.bias is None for lv in layer.levels)
    # Σ k²·(Cin/g)·Cout_i, no biases
    assert n_trainable(layer) == sum(k * k * (cin // g) * c for k, g, c in zip(kernels, groups, expected_out))


@pytest.mark.parametrize("stage,stride", [(1, 1), (2, 2), (3, 1), (4, 2)])
def test_each_level_equals_plain_grouped_conv(stage, stride):
    cin, cout = 16, 64
    layer = PyConv.for_stage(cin, cout, stage, stride=stride)
    x = paddle.randn([2, cin, 9, 9])
    out = layer(x)
    ho = (9 - 1) // stride + 1
    assert out.shape == [2, cout, ho, ho]
    start = 0
    kernels, groups, _ = PRESETS[stage]
    for lv, k, g, c in zip(layer.levels, kernels, groups, layer.level_channels):
        ref = F.conv2d(x, lv.weight, stride=stride, padding=k // 2, groups=g)
        np.testing.assert_allclose(out[:, start:start + c].numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
        start += c
    assert start == cout


def test_grouping_is_real():
    """A level with groups=4 must not mix input groups: zero the first input quarter -> the first
    output quarter of that level depends on nothing."""
    layer = PyConv(8, [4, 4], kernels=[3, 5], groups=[1, 4])
    x = paddle.randn([1, 8, 6, 6])
    x1 = x.clone()
    x1[:, 0:2] = 0.0
    y, y1 = layer(x).numpy(), layer(x1).numpy()
    # level 1 (k=5, g=4): output channel 4 reads input channels 0-1 only; channels 5-7 don't
    assert np.abs(y[:, 4] - y1[:, 4]).max() > 1e-4
    np.testing.assert_allclose(y[:, 5:], y1[:, 5:], rtol=1e-6, atol=1e-6)


def test_custom_levels_and_splits():
    layer = PyConv(12, 24, kernels=[3, 5, 7], groups=[1, 3, 6], splits=[0.5, 0.25, 0.25])
    assert layer.level_channels == [12, 6, 6]
    assert layer(paddle.randn([1, 12, 5, 5])).shape == [1, 24, 5, 5]
    assert PyConv(4, [3, 5], [3, 3], [1, 1]).out_channels == 8


def test_bad_arguments():
    with pytest.raises(ValueError, match="groups=16 at level 3 must divide in_channels=8"):
        PyConv.for_stage(8, 64, 1)
    with pytest.raises(ValueError, match="split 1/4 of out_channels=30"):
        PyConv.for_stage(16, 30, 1)
    with pytest.raises(ValueError, match="stage=5"):
        PyConv.for_stage(16, 32, 5)
    with pytest.raises(ValueError, match="must sum to 1"):
        PyConv(8, 8, [3, 5], [1, 1], splits=[0.5, 0.25])
    with pytest.raises(ValueError, match="kernel size 4"):
        PyConv(8, 8, [3, 4], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        PyConv(8, 8, [3, 5], [1])


def test_forward_backward():
    layer = PyConv.for_stage(16, 32, 2, stride=2)
    x = paddle.randn([2, 16, 8, 8])
    x.stop_gradient = False
    out = layer(x)
    (out * paddle.randn(out.shape)).sum().backward()
    assert float(x.grad.abs().sum()) > 0
    for lv in layer.levels:
        assert lv.weight.grad is not None and float(lv.weight.grad.abs().sum()) > 0


def test_jit_export_roundtrip(tmp_path):
    assert_export_roundtrip(PyConv.for_stage(16, 64, 1), paddle.randn([2, 16, 7, 7]), tmp_path, dynamic_hw=True, atol=1e-5)