import copy

import numpy as np
import paddle
import pytest

from paddle_tricks.layers import AconC, MetaAconC
from helpers import assert_export_roundtrip as _export_roundtrip


def _set(layer, **values):
    for name, v in values.items():
        p = getattr(layer, name)
        p.set_value(paddle.full(p.shape, v, "float32"))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_initialisation():
    paddle.seed(1)
    layer = AconC(256)
    for name in ("p1", "p2", "beta"):
        assert getattr(layer, name).shape == [1, 256, 1, 1]
    np.testing.assert_array_equal(layer.beta.numpy(), 1.0)
    p1 = layer.p1.numpy()
    assert abs(p1.mean()) < 0.2 and 0.8 < p1.std() < 1.2  # randn init
    assert not np.allclose(layer.p1.numpy(), layer.p2.numpy())


def test_p1_one_p2_zero_beta_one_is_swish():
    layer = AconC(3)
    _set(layer, p1=1.0, p2=0.0, beta=1.0)
    x = np.random.randn(2, 3, 4, 4).astype("float32")
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), x * _sigmoid(x), rtol=1e-5, atol=1e-6)


def test_equal_p_gives_linear():
    layer = AconC(3)
    _set(layer, p1=0.7, p2=0.7, beta=5.0)
    x = np.random.randn(2, 3, 4, 4).astype("float32")
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), 0.7 * x, rtol=1e-6)


def test_matches_formula_per_channel():
    layer = AconC(3)
    x = np.random.randn(2, 3, 4, 4).astype("float32")
    p1, p2, b = layer.p1.numpy(), layer.p2.numpy(), layer.beta.numpy()
    ref = (p1 - p2) * x * _sigmoid(b * (p1 - p2) * x) + p2 * x
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_large_beta_approaches_max():
    layer = AconC(2)
    _set(layer, p1=1.0, p2=0.25, beta=1e4)
    x = np.array([-2.0, -0.5, 0.5, 3.0], "float32").reshape(1, 1, 1, 4).repeat(2, axis=1)
    np.testing.assert_allclose(layer(paddle.to_tensor(x)).numpy(), np.maximum(x, 0.25 * x), rtol=1e-4)


def test_no_weight_decay_flags():
    a, m = AconC(4), MetaAconC(4)
    assert all(getattr(p, "no_weight_decay", False) for p in (a.p1, a.p2, a.beta, m.p1, m.p2))
    assert not getattr(m.fc1.weight, "no_weight_decay", False)
    assert sum(getattr(p, "no_weight_decay", False) for p in a.parameters()) == 3
    copied = copy.deepcopy(m)
    assert copied.p1.optimize_attr.get("no_weight_decay") and copied.p2.optimize_attr.get("no_weight_decay")
    assert not copied.fc1.weight.optimize_attr.get("no_weight_decay", False)


def test_meta_acon_structure_and_beta():
    layer = MetaAconC(64)
    assert layer.fc1.weight.shape == [16, 64, 1, 1] and layer.fc1.bias is not None
    assert MetaAconC(512).fc1.weight.shape == [32, 512, 1, 1]
    layer.eval()
    x = paddle.randn([2, 64, 5, 5])
    beta = layer.switch_factor(x)
    assert beta.shape == [2, 64, 1, 1]
    assert float(beta.min()) > 0 and float(beta.max()) < 1
    # with beta fixed to the generated value the output is AconC's formula
    p1, p2, b, xn = layer.p1.numpy(), layer.p2.numpy(), beta.numpy(), x.numpy()
    ref = (p1 - p2) * xn * _sigmoid(b * (p1 - p2) * xn) + p2 * xn
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-5, atol=1e-5)
    # manual beta: sigmoid(bn2(fc2(bn1(fc1(gap)))))
    gap = x.mean(axis=[2, 3], keepdim=True)
    manual = paddle.nn.functional.sigmoid(layer.bn2(layer.fc2(layer.bn1(layer.fc1(gap)))))
    np.testing.assert_allclose(beta.numpy(), manual.numpy(), rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: AconC(4), lambda: MetaAconC(4)])
def test_forward_backward(make):
    layer = make()
    layer.train()
    x = paddle.randn([3, 4, 5, 5])
    x.stop_gradient = False
    layer(x).square().mean().backward()
    assert float(x.grad.abs().sum()) > 0
    for p in (layer.p1, layer.p2):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0
    if isinstance(layer, AconC):
        assert float(layer.beta.grad.abs().sum()) > 0
    else:
        assert float(layer.fc1.weight.grad.abs().sum()) > 0


@pytest.mark.parametrize("make", [lambda: AconC(4), lambda: MetaAconC(4)])
def test_export(tmp_path, make):
    _export_roundtrip(make(), paddle.randn([2, 4, 5, 5]), tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        AconC(0)
    with pytest.raises(ValueError, match="r="):
        MetaAconC(8, r=0)
