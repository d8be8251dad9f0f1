import numpy as np
import paddle
import pytest

from paddle_tricks.layers import DyReLUA, DyReLUB, DyReLUC
from helpers import assert_export_roundtrip as _export_roundtrip


def _zero_last_fc(layer):
    layer.fc2.weight.set_value(paddle.zeros(layer.fc2.weight.shape))
    layer.fc2.bias.set_value(paddle.zeros(layer.fc2.bias.shape))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _hyper(layer, x):
    g = x.mean(axis=(2, 3))
    h = np.maximum(g @ layer.fc1.weight.numpy() + layer.fc1.bias.numpy(), 0)
    return 2 * _sigmoid(h @ layer.fc2.weight.numpy() + layer.fc2.bias.numpy()) - 1


@pytest.mark.parametrize("cls", [DyReLUA, DyReLUB])
def test_zero_hyper_output_is_exact_relu(cls):
    layer = cls(8)
    _zero_last_fc(layer)
    x = paddle.randn([2, 8, 5, 5])
    np.testing.assert_array_equal(layer(x).numpy(), np.maximum(x.numpy(), 0))


def test_c_with_zero_hyper_output_is_attention_times_relu():
    layer = DyReLUC(8)
    _zero_last_fc(layer)
    x = paddle.randn([2, 8, 6, 6])
    pi = layer.spatial_attention(x).numpy()
    np.testing.assert_allclose(layer(x).numpy(), pi * np.maximum(x.numpy(), 0), rtol=1e-6, atol=1e-7)
    # uniform logits: softmax = 1/HW, gamma = HW/3 -> pi = 1/3 everywhere
    layer.spatial.weight.set_value(paddle.zeros(layer.spatial.weight.shape))
    np.testing.assert_allclose(layer.spatial_attention(x).numpy(), 1 / 3, rtol=1e-6)


def test_buffers_are_constants_not_parameters():
    layer = DyReLUB(8)
    np.testing.assert_array_equal(layer.lambdas.numpy(), [1.0, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(layer.init_v.numpy(), [1.0, 0.0, 0.0, 0.0])
    names = [n for n, _ in layer.named_parameters()]
    assert not any("lambdas" in n or "init_v" in n for n in names)
    assert "lambdas" not in layer.state_dict() and "init_v" not in layer.state_dict()
    assert layer.fc1.weight.shape == [8, 2]  # reduction 4


def test_coefficient_shapes_a_vs_b():
    x = paddle.randn([3, 8, 4, 4])
    a, b = DyReLUA(8).coefficients(x)
    assert a.shape == b.shape == [3, 1, 1, 1, 2]
    a, b = DyReLUB(8).coefficients(x)
    assert a.shape == b.shape == [3, 8, 1, 1, 2]
    assert DyReLUA(8).fc2.weight.shape == [2, 4] and DyReLUB(8).fc2.weight.shape == [2, 32]


@pytest.mark.parametrize("cls", [DyReLUA, DyReLUB])
def test_matches_numpy_reference(cls):
    layer = cls(8)
    x = np.random.randn(2, 8, 3, 3).astype("float32")
    theta = _hyper(layer, x)
    c = 8 if cls is DyReLUB else 1
    coefs = theta.reshape(2, c, 4) * np.array([1, 1, 0.5, 0.5]) + np.array([1, 0, 0, 0])
    a = coefs[:, :, :2].reshape(2, c, 1, 1, 2)
    b = coefs[:, :, 2:].reshape(2, c, 1, 1, 2)
    ref = (x[..., None] * a + b).max(-1)
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_c_matches_numpy_reference_and_attention_bounded():
    layer = DyReLUC(8)
    layer.spatial.weight.set_value(5 * paddle.randn(layer.spatial.weight.shape))
    x = np.random.randn(2, 8, 4, 5).astype("float32")
    xt = paddle.to_tensor(x)
    z = (np.einsum("nchw,c->nhw", x, layer.spatial.weight.numpy()[0, :, 0, 0])
         + layer.spatial.bias.numpy()[0]).reshape(2, -1) / 10.0
    soft = np.exp(z - z.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    pi_ref = np.minimum(soft * 20 / 3, 1.0).reshape(2, 1, 4, 5)
    pi = layer.spatial_attention(xt).numpy()
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-5, atol=1e-6)
    assert pi.max() <= 1.0 and pi.min() > 0 and (pi == 1.0).any()  # the clip is active
    theta = _hyper(layer, x)
    coefs = theta.reshape(2, 8, 4) * np.array([1, 1, 0.5, 0.5]) + np.array([1, 0, 0, 0])
    a = coefs[:, :, :2].reshape(2, 8, 1, 1, 2) * pi_ref[..., None]
    b = coefs[:, :, 2:].reshape(2, 8, 1, 1, 2) * pi_ref[..., None]
    np.testing.assert_allclose(layer(xt).numpy(), (x[..., None] * a + b).max(-1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [DyReLUA, DyReLUB, DyReLUC])
def test_forward_backward(cls):
    layer = cls(8)
    x = paddle.randn([2, 8, 4, 4])
    x.stop_gradient = False
    y = layer(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert float(x.grad.abs().sum()) > 0
    assert float(layer.fc2.weight.grad.abs().sum()) > 0 and float(layer.fc1.weight.grad.abs().sum()) > 0
    if cls is DyReLUC:
        assert float(layer.spatial.weight.grad.abs().sum()) > 0


@pytest.mark.parametrize("cls", [DyReLUA, DyReLUB, DyReLUC])
def test_export(tmp_path, cls):
    _export_roundtrip(cls(8), paddle.randn([2, 8, 5, 5]), tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        DyReLUB(3, reduction=4)
    with pytest.raises(ValueError, match="input channels"):
        DyReLUA(8)(paddle.randn([1, 4, 3, 3]))
    with pytest.raises(ValueError, match="tau"):
        DyReLUC(8, tau=0)
