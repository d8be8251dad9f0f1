import numpy as np
import paddle
import pytest

from paddle_tricks.layers import BlurPool, ConvBlurPool, MaxBlurPool
from paddle_tricks.layers.blurpool import binomial_filter
from helpers import assert_export_roundtrip as _export_roundtrip


@pytest.mark.parametrize("k", range(1, 8))
def test_filter_is_normalised_binomial(k):
    f = binomial_filter(k)
    assert f.shape == (k, k)
    assert abs(f.sum() - 1.0) < 1e-6
    rows = {1: [1], 2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1],
            6: [1, 5, 10, 10, 5, 1], 7: [1, 6, 15, 20, 15, 6, 1]}
    r = np.array(rows[k], dtype="float64")
    np.testing.assert_allclose(f, np.outer(r, r) / r.sum() ** 2, rtol=1e-6)


def test_filter_is_non_persistable_buffer():
    layer = BlurPool(3)
    assert list(layer.filt.shape) == [3, 1, 4, 4]
    assert len(layer.parameters()) == 0
    assert "filt" not in layer.state_dict()
    assert any(b is layer.filt for b in layer.buffers())


def test_matches_manual_reflect_pad_and_blur():
    x = np.random.rand(1, 2, 6, 7).astype("float32")
    layer = BlurPool(2, filt_size=4)
    y = layer(paddle.to_tensor(x)).numpy()
    pad = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)), mode="reflect")  # floor/ceil((k-1)/2)
    f = binomial_filter(4)
    oh, ow = (pad.shape[2] - 4) // 2 + 1, (pad.shape[3] - 4) // 2 + 1
    ref = np.zeros((1, 2, oh, ow), "float32")
    for i in range(oh):
        for j in range(ow):
            ref[:, :, i, j] = (pad[:, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4] * f).sum(axis=(2, 3))
    assert y.shape == ref.shape == (1, 2, 3, 4)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_shift_by_stride_shifts_output_by_one():
    x = paddle.randn([1, 3, 24, 24])
    layer = BlurPool(3, filt_size=5)
    y = layer(x).numpy()
    y_shift = layer(paddle.roll(x, shifts=2, axis=3)).numpy()
    # away from the borders (filter radius 2, plus the wrapped columns) a 2-px shift is a 1-px shift
    np.testing.assert_allclose(y_shift[..., 3:-2], y[..., 2:-3], rtol=1e-5, atol=1e-6)
    y_shift_v = layer(paddle.roll(x, shifts=2, axis=2)).numpy()
    np.testing.assert_allclose(y_shift_v[:, :, 3:-2], y[:, :, 2:-3], rtol=1e-5, atol=1e-6)
    # a constant image stays constant (filter sums to one, reflect padding)
    c = layer(paddle.full([1, 3, 9, 9], 2.5)).numpy()
    np.testing.assert_allclose(c, 2.5, rtol=1e-6)


@pytest.mark.parametrize("size", [16, 15])
def test_output_shapes(size):
    x = paddle.randn([2, 4, size, size])
    half = (size + 1) // 2
    for k in range(1, 8):
        assert BlurPool(4, filt_size=k)(x).shape == [2, 4, half, half]
    # MaxPool(2, s=1) removes one row/column before the blur, as in the official ResNet stem
    assert MaxBlurPool(4)(x).shape == [2, 4, size // 2, size // 2]
    assert ConvBlurPool(4, 6)(x).shape == [2, 6, half, half]
    assert BlurPool(4, stride=1)(x).shape == [2, 4, size, size]


def test_max_blur_pool_is_max_then_blur():
    x = paddle.randn([1, 2, 8, 8])
    layer = MaxBlurPool(2)
    ref = layer.blur(paddle.nn.functional.max_pool2d(x, 2, stride=1))
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), rtol=1e-6)


def test_forward_backward():
    layer = ConvBlurPool(3, 4)
    x = paddle.randn([2, 3, 8, 8])
    x.stop_gradient = False
    layer(x).mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert layer.conv.conv.weight.grad is not None


@pytest.mark.parametrize("make", [lambda: BlurPool(3), lambda: MaxBlurPool(3), lambda: ConvBlurPool(3, 4)])
def test_export(tmp_path, make):
    _export_roundtrip(make(), paddle.randn([2, 3, 12, 12]), tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="filt_size"):
        BlurPool(3, filt_size=8)
    with pytest.raises(ValueError, match="pad_type"):
        BlurPool(3, pad_type="wrap")
