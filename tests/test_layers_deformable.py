import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.layers import DeformableConv


def _plain_conv(dcn, **kw):
    conv = nn.Conv2D(dcn.conv._in_channels, dcn.conv._out_channels, dcn.kernel_size,
                     bias_attr=dcn.conv.bias is not None and None, **kw)
    conv.weight.set_value(dcn.conv.weight)
    if dcn.conv.bias is not None:
        conv.bias.set_value(dcn.conv.bias)
    return conv


def test_offset_conv_zero_initialised_same_geometry():
    dcn = DeformableConv(4, 6, 3, stride=2, dilation=2, deformable_groups=2, modulated=True)
    for conv, ch in ((dcn.offset_conv, 2 * 2 * 9), (dcn.mask_conv, 2 * 9)):
        assert conv._out_channels == ch
        assert conv._stride == [2, 2] and conv._dilation == [2, 2] and conv._padding == 2
        assert float(conv.weight.abs().sum()) == 0 and float(conv.bias.abs().sum()) == 0


@pytest.mark.parametrize("stride,dilation,bias", [(1, 1, False), (2, 1, True), (1, 2, False)])
def test_v1_with_zero_offsets_equals_plain_conv(stride, dilation, bias):
    dcn = DeformableConv(4, 6, 3, stride=stride, dilation=dilation, bias=bias)
    if bias:
        dcn.conv.bias.set_value(paddle.randn([6]))
    conv = _plain_conv(dcn, stride=stride, padding=dilation, dilation=dilation)
    x = paddle.randn([2, 4, 9, 9])
    np.testing.assert_allclose(dcn(x).numpy(), conv(x).numpy(), rtol=1e-5, atol=1e-5)


def test_v2_with_zero_init_mask_is_half_conv():
    # sigmoid(0) = 0.5 (paper/mmcv/torchvision convention; the MXNet example's 2*sigmoid would give 1x)
    dcn = DeformableConv(3, 4, 3, modulated=True)
    conv = _plain_conv(dcn, padding=1)
    x = paddle.randn([1, 3, 7, 7])
    np.testing.assert_allclose(dcn(x).numpy(), 0.5 * conv(x).numpy(), rtol=1e-5, atol=1e-5)


def test_integer_offset_shifts_sampling_grid():
    dcn = DeformableConv(2, 3, 3)
    # offsets are (dy, dx) pairs per kernel point: dx = +1 everywhere samples one pixel to the right
    b = np.zeros(18, "float32")
    b[1::2] = 1.0
    dcn.offset_conv.bias.set_value(paddle.to_tensor(b))
    x = paddle.randn([1, 2, 6, 6])
    # output (i, j), kernel point (a, b) reads x[i + a - 1, j + b]: a valid conv on x zero-padded by
    # one row top/bottom, none on the left and two columns on the right
    shifted = paddle.nn.functional.pad(x, [0, 2, 1, 1])
    conv = _plain_conv(dcn, padding=0)
    np.testing.assert_allclose(dcn(x).numpy(), conv(shifted).numpy(), rtol=1e-5, atol=1e-5)


def test_gradients_reach_offset_and_mask_convs():
    dcn = DeformableConv(2, 3, 3, modulated=True)
    x = paddle.randn([1, 2, 6, 6])
    x.stop_gradient = False
    dcn(x).square().sum().backward()
    for p in (dcn.offset_conv.weight, dcn.offset_conv.bias, dcn.mask_conv.weight, dcn.conv.weight):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0
    assert float(x.grad.abs().sum()) > 0


def test_offset_lr_mult():
    dcn = DeformableConv(2, 3, 3, modulated=True, offset_lr_mult=0.1)
    assert dcn.offset_conv.weight.optimize_attr["learning_rate"] == pytest.approx(0.1)
    assert dcn.mask_conv.bias.optimize_attr["learning_rate"] == pytest.approx(0.1)


@pytest.mark.parametrize("modulated", [False, True])
def test_export(tmp_path, modulated):
    dcn = DeformableConv(2, 3, 3, modulated=modulated)
    dcn.offset_conv.weight.set_value(0.1 * paddle.randn(dcn.offset_conv.weight.shape))
    dcn.eval()
    x = paddle.randn([1, 2, 6, 6])
    ref = dcn(x).numpy()
    path = str(tmp_path / "dcn")
    paddle.jit.save(dcn, path, input_spec=[paddle.static.InputSpec([None, 2, 6, 6], "float32")])
    np.testing.assert_allclose(paddle.jit.load(path)(x).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="deformable_groups"):
        DeformableConv(4, 4, 3, deformable_groups=3)
    with pytest.raises(ValueError, match="groups"):
        DeformableConv(4, 6, 3, groups=4)
