"""SPConv (arXiv 2006.12085): numerics against a numpy re-implementation, shapes, counts, errors, export."""
import numpy as np
import paddle
import pytest

from paddle_tricks.layers import SPConv
from helpers import assert_export_roundtrip


def np_conv2d(x, w, b=None, stride=1, pad=0, groups=1):
    """Direct numpy cross-correlation (NCHW, OIHW weights), the reference for every conv below."""
    bsz, _, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((bsz, o, ho, wo), dtype=np.float64)
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(k):
            for j in range(k):
                patch = xs[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
                out[:, g * og:(g + 1) * og] += np.einsum("bchw,oc->bohw", patch, ws[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def np_avgpool2(x):
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def np_bn_eval(x, bn):
    mean, var = bn._mean.numpy(), bn._variance.numpy()
    g, b = bn.weight.numpy(), bn.bias.numpy()
    return (x - mean.reshape(1, -1, 1, 1)) / np.sqrt(var.reshape(1, -1, 1, 1) + bn._epsilon) \
        * g.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)


def randomize_bn(bn, rng):
    c = bn.weight.shape[0]
    bn.weight.set_value(rng.uniform(0.5, 1.5, c).astype("float32"))
    bn.bias.set_value(rng.uniform(-0.5, 0.5, c).astype("float32"))
    bn._mean.set_value(rng.uniform(-0.3, 0.3, c).astype("float32"))
    bn._variance.set_value(rng.uniform(0.5, 2.0, c).astype("float32"))


def n_trainable(layer):
    return sum(int(np.prod(p.shape)) for p in layer.parameters() if not p.stop_gradient)


@pytest.mark.parametrize("stride", [1, 2])
def test_matches_numpy_reference(stride):
    rng = np.random.default_rng(1)
    layer = SPConv(8, 6, stride=stride, ratio=0.5)
    randomize_bn(layer.bn_rep, rng)
    randomize_bn(layer.bn_red, rng)
    layer.eval()
    x = rng.standard_normal((2, 8, 6, 6)).astype("float32")
    out = layer(paddle.to_tensor(x)).numpy()

    x_rep, x_red = x[:, :4].astype(np.float64), x[:, 4:].astype(np.float64)  # first int(C*α) are representative
    gwc = np_conv2d(x_rep, layer.gwc.weight.numpy(), stride=stride, pad=1, groups=2)
    pwc_in = np_avgpool2(x_rep) if stride == 2 else x_rep
    rep = np_bn_eval(gwc + np_conv2d(pwc_in, layer.pwc.weight.numpy()), layer.bn_rep)
    red_in = np_avgpool2(x_red) if stride == 2 else x_red
    red = np_bn_eval(np_conv2d(red_in, layer.conv1x1.weight.numpy(), layer.conv1x1.bias.numpy()),
                     layer.bn_red)
    s = np.stack([rep.mean(axis=(2, 3)), red.mean(axis=(2, 3))], axis=2)
    w = np.exp(s) / np.exp(s).sum(axis=2, keepdims=True)
    ref = rep * w[:, :, 0, None, None] + red * w[:, :, 1, None, None]
    assert out.shape == (2, 6, 6 // stride, 6 // stride)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_fusion_weights_sum_to_one_per_channel():
    layer = SPConv(8, 6)
    x = paddle.randn([3, 8, 5, 5])
    rep, red = layer.branches(x)
    w = layer.fusion_weights(rep, red)
    assert w.shape == [3, 6, 2]
    np.testing.assert_allclose(w.sum(axis=2).numpy(), np.ones((3, 6)), rtol=1e-6)
    # softmax is over the two branches, per sample and channel, of the branch GAPs
    m_rep, m_red = rep.mean(axis=[2, 3]).numpy(), red.mean(axis=[2, 3]).numpy()
    np.testing.assert_allclose(w[:, :, 0].numpy(), 1 / (1 + np.exp(m_red - m_rep)), rtol=1e-5)
    fused = rep * w[:, :, 0].unsqueeze([2, 3]) + red * w[:, :, 1].unsqueeze([2, 3])
    np.testing.assert_allclose(layer(x).numpy(), fused.numpy(), rtol=1e-5, atol=1e-6)


def test_hand_case_constant_redundant_branch():
    """Representative part zeroed, redundant 1×1 = bias c only, BN = identity: out = c·sigmoid(c)."""
    layer = SPConv(6, 4, ratio=2 / 3)  # 4 representative, 2 redundant channels
    assert (layer.rep_channels, layer.red_channels) == (4, 2)
    for bn in (layer.bn_rep, layer.bn_red):
        bn.weight.set_value(np.ones(4, "float32"))
        bn.bias.set_value(np.zeros(4, "float32"))
        bn._mean.set_value(np.zeros(4, "float32"))
        bn._variance.set_value(np.full(4, 1 - bn._epsilon, "float32"))
    layer.gwc.weight.set_value(np.zeros(layer.gwc.weight.shape, "float32"))
    layer.pwc.weight.set_value(np.zeros(layer.pwc.weight.shape, "float32"))
    layer.conv1x1.weight.set_value(np.zeros(layer.conv1x1.weight.shape, "float32"))
    c = np.array([-1.0, 0.0, 0.5, 2.0], "float32")
    layer.conv1x1.bias.set_value(c)
    layer.eval()
    out = layer(paddle.randn([2, 6, 4, 4])).numpy()
    expected = c / (1 + np.exp(-c))  # softmax([0, c]) weight of the redundant branch times c
    np.testing.assert_allclose(out, np.broadcast_to(expected.reshape(1, 4, 1, 1), out.shape), rtol=1e-5,
                               atol=1e-7)


def test_stride2_shapes():
    layer = SPConv(8, 12, stride=2, ratio=0.25)
    assert layer(paddle.randn([2, 8, 10, 14])).shape == [2, 12, 5, 7]
    assert SPConv(8, 12, stride=1)(paddle.randn([1, 8, 7, 9])).shape == [1, 12, 7, 9]


@pytest.mark.parametrize("cin,cout,ratio", [(8, 6, 0.5), (16, 10, 0.25), (12, 8, 0.5)])
def test_parameter_count_formula(cin, cout, ratio):
    rep = int(cin * ratio)
    red = cin - rep
    # GWC 3x3 groups=2 + PWC 1x1 + redundant 1x1 with bias + two BNs (γ, β)
    expected = cout * (rep // 2) * 9 + cout * rep + (cout * red + cout) + 2 * 2 * cout
    assert n_trainable(SPConv(cin, cout, ratio=ratio)) == expected


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"int\(in_channels\*ratio\)=3 must be even \(groups=2\)"):
        SPConv(6, 4, ratio=0.5)
    with pytest.raises(ValueError, match="out_channels=5 must be even"):
        SPConv(8, 5)
    with pytest.raises(ValueError, match=r"ratio=1.0 must lie in the open interval \(0, 1\)"):
        SPConv(8, 4, ratio=1.0)
    with pytest.raises(ValueError, match="ratio=0"):
        SPConv(8, 4, ratio=0)
    with pytest.raises(ValueError, match="stride=3"):
        SPConv(8, 4, stride=3)


def test_forward_backward_reaches_every_parameter():
    layer = SPConv(8, 6, stride=2)
    x = paddle.randn([2, 8, 6, 6])
    x.stop_gradient = False
    out = layer(x)
    (out * paddle.randn(out.shape)).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    for name, p in layer.named_parameters():
        if p.stop_gradient:
            continue
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_jit_export_roundtrip(tmp_path):
    assert_export_roundtrip(SPConv(8, 6, stride=2), paddle.randn([2, 8, 6, 6]), tmp_path, dynamic_hw=True, atol=1e-6)