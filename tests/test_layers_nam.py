"""NAM (arXiv 2111.12419): numpy equality, detached importance weights (exact γ gradient), spatial
variant, sparsity helpers, export."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest
from paddle.static import InputSpec

from paddle_tricks.layers import NAM, add_nam_sparsity_hooks, nam_sparsity_


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def set_gamma(bn, rng, signed=True):
    c = bn.weight.shape[0]
    g = rng.uniform(0.3, 1.5, c) * (rng.choice([-1, 1], c) if signed else 1)
    bn.weight.set_value(g.astype("float32"))
    bn.bias.set_value(rng.uniform(-0.5, 0.5, c).astype("float32"))
    return g


def np_channel_train(x, gamma, beta, eps):
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)  # biased, as BN uses for normalisation
    xhat = (x - mean) / np.sqrt(var + eps)
    w = (np.abs(gamma) / np.abs(gamma).sum()).reshape(1, -1, 1, 1)
    z = (gamma.reshape(1, -1, 1, 1) * xhat + beta.reshape(1, -1, 1, 1)) * w
    return sigmoid(z) * x, xhat, z, w


def test_channel_matches_numpy_train_mode():
    rng = np.random.default_rng(0)
    nam = NAM(5)
    gamma = set_gamma(nam.bn, rng)
    x = rng.standard_normal((3, 5, 4, 6)).astype("float32") * 2 + 0.5
    out = nam(paddle.to_tensor(x))
    assert out.shape == [3, 5, 4, 6]
    ref, *_ = np_channel_train(x.astype(np.float64), gamma, nam.bn.bias.numpy(), nam.bn._epsilon)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)


def test_channel_matches_numpy_eval_mode():
    rng = np.random.default_rng(1)
    nam = NAM(4)
    gamma = set_gamma(nam.bn, rng)
    mean, var = rng.uniform(-1, 1, 4), rng.uniform(0.5, 2, 4)
    nam.bn._mean.set_value(mean.astype("float32"))
    nam.bn._variance.set_value(var.astype("float32"))
    nam.eval()
    x = rng.standard_normal((2, 4, 3, 3)).astype("float32")
    r = lambda v: v.reshape(1, -1, 1, 1)  # noqa: E731
    xbn = (x - r(mean)) / np.sqrt(r(var) + nam.bn._epsilon) * r(gamma) + r(nam.bn.bias.numpy())
    ref = sigmoid(xbn * r(np.abs(gamma) / np.abs(gamma).sum())) * x
    np.testing.assert_allclose(nam(paddle.to_tensor(x)).numpy(), ref, rtol=1e-4, atol=1e-5)


def test_importance_weights_are_detached_exact_gamma_gradient():
    """dL/dγ_c must be Σ r·x·σ'(z)·w_c·x̂ (BN's own path only). A non-detached w = |γ|/Σ|γ| would add
    terms through w, so the gradient would differ."""
    rng = np.random.default_rng(2)
    nam = NAM(4)
    gamma = set_gamma(nam.bn, rng)
    x = rng.standard_normal((2, 4, 3, 5)).astype("float32")
    r = rng.standard_normal((2, 4, 3, 5)).astype("float32")
    out = nam(paddle.to_tensor(x))
    (out * paddle.to_tensor(r)).sum().backward()

    x64 = x.astype(np.float64)
    _, xhat, z, w = np_channel_train(x64, gamma, nam.bn.bias.numpy(), nam.bn._epsilon)
    common = r * x64 * sigmoid(z) * (1 - sigmoid(z)) * w
    np.testing.assert_allclose(nam.bn.weight.grad.numpy(), (common * xhat).sum(axis=(0, 2, 3)), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(nam.bn.bias.grad.numpy(), common.sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-6)

    # and the gradient a non-detached gate would produce differs measurably
    g = paddle.to_tensor(gamma.astype("float32"), stop_gradient=False)
    xt = paddle.to_tensor(x)
    mean = xt.mean(axis=[0, 2, 3], keepdim=True)
    var = ((xt - mean) ** 2).mean(axis=[0, 2, 3], keepdim=True)
    xh = (xt - mean) / paddle.sqrt(var + nam.bn._epsilon)
    wa = (g.abs() / g.abs().sum()).reshape([1, -1, 1, 1])
    y = paddle.nn.functional.sigmoid((xh * g.reshape([1, -1, 1, 1]) + nam.bn.bias.detach().reshape([1, -1, 1, 1]))
                                     * wa) * xt
    (grad_attached,) = paddle.grad((y * paddle.to_tensor(r)).sum(), g)
    assert np.abs(grad_attached.numpy() - nam.bn.weight.grad.numpy()).max() > 1e-3


def np_spatial(out_c, lam, beta, eps):
    b, c, h, w = out_c.shape
    t = out_c.reshape(b, c, h * w)                      # BN1D channels are the pixels, stats over (B, C)
    mean = t.mean(axis=(0, 1), keepdims=True)
    var = t.var(axis=(0, 1), keepdims=True)
    tb = (t - mean) / np.sqrt(var + eps) * lam.reshape(1, 1, -1) + beta.reshape(1, 1, -1)
    tb = tb * (np.abs(lam) / np.abs(lam).sum()).reshape(1, 1, -1)
    return sigmoid(tb.reshape(b, c, h, w)) * out_c


def test_spatial_variant_matches_numpy():
    rng = np.random.default_rng(3)
    nam = NAM(3, spatial=True, spatial_size=(4, 5))
    gamma = set_gamma(nam.bn, rng)
    lam = set_gamma(nam.spatial_bn, rng)
    assert nam.spatial_bn.weight.shape == [20]
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    out = nam(paddle.to_tensor(x)).numpy()
    out_c, *_ = np_channel_train(x.astype(np.float64), gamma, nam.bn.bias.numpy(), nam.bn._epsilon)
    ref = np_spatial(out_c, lam, nam.spatial_bn.bias.numpy(), nam.spatial_bn._epsilon)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="spatial=True needs spatial_size"):
        NAM(4, spatial=True)
    with pytest.raises(ValueError, match=r"built for spatial_size=\(4, 4\), got 5x5"):
        NAM(2, spatial=True, spatial_size=4)(paddle.randn([1, 2, 5, 5]))
    with pytest.raises(ValueError, match="channels=0"):
        NAM(0)


def test_sparsity_helper_touches_nam_bn_weights_only():
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Conv2D(3, 4, 3, padding=1), nn.BatchNorm2D(4),
                          NAM(4, spatial=True, spatial_size=3))
    set_gamma(model[1], rng)
    set_gamma(model[2].bn, rng)
    set_gamma(model[2].spatial_bn, rng)
    out = model(paddle.randn([2, 3, 3, 3]))
    (out * paddle.randn(out.shape)).sum().backward()
    before = {n: p.grad.numpy().copy() for n, p in model.named_parameters() if p.grad is not None}
    assert nam_sparsity_(model, s=1e-2) == 2
    for n, p in model.named_parameters():
        if n not in before:
            continue
        diff = p.grad.numpy() - before[n]
        if n in ("2.bn.weight", "2.spatial_bn.weight"):
            np.testing.assert_allclose(diff, 1e-2 * np.sign(p.numpy()), rtol=1e-4, atol=1e-7)
        else:
            np.testing.assert_array_equal(diff, np.zeros_like(diff), err_msg=n)


def test_sparsity_hooks_match_explicit_helper():
    x = paddle.randn([2, 4, 3, 3])
    r = paddle.randn([2, 4, 3, 3])
    a, b = NAM(4), NAM(4)
    set_gamma(a.bn, np.random.default_rng(5))
    b.set_state_dict(a.state_dict())
    (a(x) * r).sum().backward()
    nam_sparsity_(a, s=1e-4)
    handles = add_nam_sparsity_hooks(b, s=1e-4)
    (b(x) * r).sum().backward()
    np.testing.assert_allclose(b.bn.weight.grad.numpy(), a.bn.weight.grad.numpy(), rtol=1e-6, atol=1e-9)
    for h in handles:
        h.remove()
    b.clear_gradients()
    (b(x) * r).sum().backward()
    diff = a.bn.weight.grad.numpy() - b.bn.weight.grad.numpy()
    np.testing.assert_allclose(diff, 1e-4 * np.sign(a.bn.weight.numpy()), rtol=1e-3, atol=1e-8)


def test_forward_backward_reaches_input():
    nam = NAM(4, spatial=True, spatial_size=3)
    x = paddle.randn([2, 4, 3, 3])
    x.stop_gradient = False
    out = nam(x)
    assert out.shape == [2, 4, 3, 3]
    (out * paddle.randn(out.shape)).sum().backward()
    assert float(x.grad.abs().sum()) > 0
    for name, p in nam.named_parameters():
        if not p.stop_gradient:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


@pytest.mark.parametrize("spatial", [False, True])
def test_jit_export_roundtrip(tmp_path, spatial):
    nam = NAM(4, spatial=spatial, spatial_size=5 if spatial else None)
    rng = np.random.default_rng(6)
    set_gamma(nam.bn, rng)
    nam.bn._mean.set_value(rng.uniform(-1, 1, 4).astype("float32"))
    nam.eval()
    x = paddle.randn([2, 4, 5, 5])
    ref = nam(x).numpy()
    hw = 5 if spatial else None
    static = paddle.jit.to_static(nam, input_spec=[InputSpec([None, 4, hw, hw], "float32")], full_graph=True)
    paddle.jit.save(static, str(tmp_path / "nam"))
    loaded = paddle.jit.load(str(tmp_path / "nam"))
    np.testing.assert_allclose(loaded(x).numpy(), ref, rtol=1e-5, atol=1e-6)
