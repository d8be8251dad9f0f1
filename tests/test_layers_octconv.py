"""Octave convolution (arXiv 1904.05049): shapes, plain-conv equivalence, nearest l2h, FLOPs ratio, export."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
from paddle.static import InputSpec

from paddle_tricks.layers import OctaveConv, OctaveConvBNAct


def make_input(layer, b=2, hw=8):
    c_h, c_l = layer.in_split
    x_h = paddle.randn([b, c_h, hw, hw]) if c_h else None
    x_l = paddle.randn([b, c_l, hw // 2, hw // 2]) if c_l else None
    return x_h, x_l


def shape(t):
    return None if t is None else list(t.shape)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("stride", [1, 2])
def test_middle_layer_shapes(alpha, stride):
    layer = OctaveConv(16, 32, 3, alpha_in=alpha, alpha_out=alpha, stride=stride)
    c_l_in, c_l_out = int(alpha * 16), int(alpha * 32)
    assert layer.in_split == (16 - c_l_in, c_l_in) and layer.out_split == (32 - c_l_out, c_l_out)
    y_h, y_l = layer(*make_input(layer, hw=8))
    o = 8 // stride
    assert shape(y_h) == ([2, 32 - c_l_out, o, o] if c_l_out < 32 else None)
    assert shape(y_l) == ([2, c_l_out, o // 2, o // 2] if c_l_out else None)


@pytest.mark.parametrize("stride", [1, 2])
def test_first_and_last_layer_shapes(stride):
    first = OctaveConv(3, 16, alpha_in=0.0, alpha_out=0.25, stride=stride)
    y_h, y_l = first(paddle.randn([2, 3, 8, 8]))  # bare tensor = high-frequency input
    o = 8 // stride
    assert shape(y_h) == [2, 12, o, o] and shape(y_l) == [2, 4, o // 2, o // 2]
    last = OctaveConv(16, 10, alpha_in=0.25, alpha_out=0.0, stride=stride)
    assert last.h2l is None and last.l2l is None
    z_h, z_l = last((y_h, y_l))  # tuple input, as produced by the previous layer
    assert shape(z_h) == [2, 10, o // stride, o // stride] and z_l is None


def test_depthwise_case():
    layer = OctaveConv(16, 16, 3, alpha_in=0.25, alpha_out=0.25, groups=16)
    assert layer.depthwise and layer.h2l is None and layer.l2h is None
    assert layer.h2h._groups == 12 and list(layer.h2h.weight.shape) == [12, 1, 3, 3]
    assert layer.l2l._groups == 4 and list(layer.l2l.weight.shape) == [4, 1, 3, 3]
    x_h, x_l = make_input(layer)
    y_h, y_l = layer(x_h, x_l)
    np.testing.assert_allclose(y_h.numpy(), F.conv2d(x_h, layer.h2h.weight, padding=1, groups=12).numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y_l.numpy(), F.conv2d(x_l, layer.l2l.weight, padding=1, groups=4).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_alpha_zero_equals_plain_conv():
    layer = OctaveConv(6, 10, 3, alpha_in=0.0, alpha_out=0.0)
    plain = nn.Conv2D(6, 10, 3, padding=1, bias_attr=False)
    plain.weight.set_value(layer.h2h.weight)
    x = paddle.randn([2, 6, 7, 9])
    y_h, y_l = layer(x)
    assert y_l is None
    np.testing.assert_allclose(y_h.numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)


def test_paths_against_manual_computation():
    """Every path of a middle layer, stride 1 and 2, recomputed from the layer's own weights."""
    for stride in (1, 2):
        layer = OctaveConv(8, 8, 3, 0.5, 0.5, stride=stride, bias=True)
        x_h, x_l = make_input(layer, hw=8)
        y_h, y_l = layer(x_h, x_l)

        def conv(path, t):
            return F.conv2d(t, path.weight, path.bias, padding=1)

        def pool(t, k):
            b, c, h, w = t.shape
            return paddle.to_tensor(t.numpy().reshape(b, c, h // k, k, w // k, k).mean(axis=(3, 5)))

        def up(t):
            return paddle.to_tensor(np.repeat(np.repeat(t.numpy(), 2, axis=2), 2, axis=3))

        if stride == 1:
            ref_h = conv(layer.h2h, x_h) + up(conv(layer.l2h, x_l))
            ref_l = conv(layer.h2l, pool(x_h, 2)) + conv(layer.l2l, x_l)
        else:
            ref_h = conv(layer.h2h, pool(x_h, 2)) + conv(layer.l2h, x_l)
            ref_l = conv(layer.h2l, pool(x_h, 4)) + conv(layer.l2l, pool(x_l, 2))
        np.testing.assert_allclose(y_h.numpy(), ref_h.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y_l.numpy(), ref_l.numpy(), rtol=1e-5, atol=1e-5)


def test_l2h_is_nearest_upsampling():
    layer = OctaveConv(8, 8, 3, 0.5, 0.5)
    layer.h2h.weight.set_value(np.zeros(layer.h2h.weight.shape, "float32"))
    x_h, x_l = make_input(layer, hw=6)
    y_h, _ = layer(x_h, x_l)
    low = F.conv2d(x_l, layer.l2h.weight, padding=1).numpy()
    expected = np.repeat(np.repeat(low, 2, axis=2), 2, axis=3)  # each low pixel copied to a 2×2 block
    np.testing.assert_allclose(y_h.numpy(), expected, rtol=1e-5, atol=1e-5)
    # bilinear would not give constant 2×2 blocks
    yh = y_h.numpy()
    np.testing.assert_array_equal(yh[:, :, 0::2, 0::2], yh[:, :, 1::2, 1::2])


def test_bias_on_one_path_only():
    mid = OctaveConv(8, 8, 3, 0.5, 0.5, bias=True)
    assert mid.h2h.bias is not None and mid.h2l.bias is not None
    assert mid.l2h.bias is None and mid.l2l.bias is None
    last = OctaveConv(8, 8, 3, 0.5, 0.0, bias=True)
    assert last.h2h.bias is not None and last.l2h.bias is None
    alpha_one_in = OctaveConv(8, 8, 3, 1.0, 0.5, bias=True)  # no high input: the low paths carry the bias
    assert alpha_one_in.l2h.bias is not None and alpha_one_in.l2l.bias is not None
    default = OctaveConv(8, 8, 3, 0.5, 0.5)
    assert all(getattr(default, p).bias is None for p in ("h2h", "h2l", "l2h", "l2l"))


def conv_madds(layer, inputs):
    """Multiply-adds of every Conv2D inside ``layer`` for one sample, from the real output shapes."""
    total = [0]

    def hook(conv, _inp, out):
        k = conv.weight.shape[2] * conv.weight.shape[3]
        total[0] += int(np.prod(out.shape[1:])) * conv.weight.shape[1] * k

    handles = [m.register_forward_post_hook(hook) for m in layer.sublayers() if isinstance(m, nn.Conv2D)]
    layer(*inputs)
    for h in handles:
        h.remove()
    return total[0]


@pytest.mark.parametrize("alpha", [0.125, 0.25, 0.5, 0.75])
def test_flops_ratio_matches_paper_formula(alpha):
    c, hw = 32, 16
    layer = OctaveConv(c, c, 3, alpha, alpha)
    x_h = paddle.randn([1, layer.in_split[0], hw, hw])
    x_l = paddle.randn([1, layer.in_split[1], hw // 2, hw // 2])
    plain = 9 * c * c * hw * hw
    ratio = conv_madds(layer, (x_h, x_l)) / plain
    assert ratio == pytest.approx((1 - alpha) ** 2 + alpha * (1 - alpha) / 2 + alpha ** 2 / 4, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha_in=1.5 must lie in"):
        OctaveConv(8, 8, alpha_in=1.5)
    with pytest.raises(ValueError, match="stride=3"):
        OctaveConv(8, 8, stride=3)
    with pytest.raises(ValueError, match="groups=4 must divide every path's channels"):
        OctaveConv(12, 12, alpha_in=0.5, alpha_out=0.5, groups=4)  # 6 high, 6 low
    with pytest.raises(ValueError, match="depthwise"):
        OctaveConv(8, 8, alpha_in=0.5, alpha_out=0.25, groups=8)
    with pytest.raises(ValueError, match="expected"):
        OctaveConv(8, 8, alpha_in=0.5)(paddle.randn([1, 4, 8, 8]))  # low-frequency input missing


def test_bn_act_forward_backward():
    block = OctaveConvBNAct(8, 8, 3, 0.5, 0.5, stride=2, act="relu")
    assert isinstance(block.act_h, nn.ReLU) and isinstance(block.act_l, nn.ReLU)
    assert block.bn_h._mean.shape == [4] and block.bn_l._mean.shape == [4]
    x_h, x_l = make_input(block.conv, hw=8)
    x_h.stop_gradient = False
    x_l.stop_gradient = False
    y_h, y_l = block(x_h, x_l)
    assert float(y_h.min()) >= 0 and float(y_l.min()) >= 0
    # train-mode BN runs separately per frequency: each output channel has zero mean before ReLU
    pre_h = block.bn_h(block.conv(x_h, x_l)[0])
    np.testing.assert_allclose(pre_h.mean(axis=[0, 2, 3]).numpy(), np.zeros(4), atol=1e-5)
    (y_h.sum() + (y_l * 2).sum()).backward()
    assert float(x_h.grad.abs().sum()) > 0 and float(x_l.grad.abs().sum()) > 0
    for name, p in block.named_parameters():
        if not p.stop_gradient:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    last = OctaveConvBNAct(8, 6, 3, 0.5, 0.0)
    assert last.bn_l is None and last.act_l is None
    assert last(x_h, x_l)[1] is None


def test_sequential_chaining():
    net = nn.Sequential(OctaveConvBNAct(3, 8, alpha_in=0.0, alpha_out=0.5),
                        OctaveConvBNAct(8, 8, stride=2),
                        OctaveConvBNAct(8, 4, alpha_out=0.0))
    y_h, y_l = net(paddle.randn([2, 3, 8, 8]))
    assert shape(y_h) == [2, 4, 4, 4] and y_l is None


@pytest.mark.parametrize("alpha_in,alpha_out", [(0.5, 0.5), (0.5, 0.0), (0.0, 0.5)])
def test_jit_export_roundtrip(tmp_path, alpha_in, alpha_out):
    """Export takes the present frequencies as separate inputs. A ``None`` output is dropped from
    the exported program (a last layer exports a single tensor)."""
    block = OctaveConvBNAct(8, 8, 3, alpha_in, alpha_out)
    block.eval()
    x_h, x_l = make_input(block.conv, hw=8)
    ref = [t.numpy() for t in block(x_h, x_l) if t is not None]
    inputs = [t for t in (x_h, x_l) if t is not None]
    specs = [InputSpec([None, t.shape[1], None, None], "float32") for t in inputs]
    static = paddle.jit.to_static(block, input_spec=specs, full_graph=True)
    paddle.jit.save(static, str(tmp_path / "oct"))
    loaded = paddle.jit.load(str(tmp_path / "oct"))
    out = loaded(*inputs)
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    assert len(out) == len(ref)
    for o, r in zip(out, ref):
        np.testing.assert_allclose(o.numpy(), r, rtol=1e-5, atol=1e-5)
