"""CoordConv (arXiv 1807.03247): exact coordinate channels on non-square maps, runtime sizes, export."""
import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle.static import InputSpec

from paddle_tricks.layers import AddCoords, CoordConv


def test_coordinate_channels_on_5x9_map():
    x = paddle.randn([2, 3, 5, 9])
    out = AddCoords(with_r=True)(x).numpy()
    assert out.shape == (2, 6, 5, 9)
    np.testing.assert_array_equal(out[:, :3], x.numpy())
    xx_ref = np.broadcast_to((2 * np.arange(9) / 8 - 1)[None, :], (5, 9))  # varies along W
    yy_ref = np.broadcast_to((2 * np.arange(5) / 4 - 1)[:, None], (5, 9))  # varies along H
    for b in range(2):
        np.testing.assert_allclose(out[b, 3], xx_ref, atol=1e-6)
        np.testing.assert_allclose(out[b, 4], yy_ref, atol=1e-6)
        np.testing.assert_allclose(out[b, 5], np.sqrt(xx_ref ** 2 + yy_ref ** 2), atol=1e-6)
    assert out[0, 3, 0, 0] == -1 and out[0, 3, 0, -1] == 1 and out[0, 4, -1, 0] == 1


def test_without_radius_and_dtype():
    x = paddle.randn([1, 2, 4, 6]).astype("float64")
    out = AddCoords()(x)
    assert out.shape == [1, 4, 4, 6] and out.dtype == paddle.float64


def test_varying_sizes_at_runtime():
    layer = CoordConv(3, 4, kernel_size=1, with_r=False)
    for h, w in [(3, 7), (8, 2), (6, 6)]:
        x = paddle.randn([1, 3, h, w])
        out = layer(x)
        assert out.shape == [1, 4, h, w]
        # 1×1 conv: output = W·[x, xx, yy] + b, so the coordinate weights must see size-dependent grids
        wgt = layer.conv.weight.numpy()[:, :, 0, 0]
        xx = np.broadcast_to(np.linspace(-1, 1, w)[None, :], (h, w))
        yy = np.broadcast_to(np.linspace(-1, 1, h)[:, None], (h, w))
        feats = np.concatenate([x.numpy()[0], xx[None], yy[None]], axis=0)
        ref = np.einsum("oc,chw->ohw", wgt, feats) + layer.conv.bias.numpy()[:, None, None]
        np.testing.assert_allclose(out.numpy()[0], ref, rtol=1e-5, atol=1e-5)


def test_coordconv_is_addcoords_then_conv():
    layer = CoordConv(3, 8, kernel_size=3, stride=2, with_r=True)
    assert layer.conv.weight.shape == [8, 6, 3, 3]
    x = paddle.randn([2, 3, 5, 9])
    ref = F.conv2d(AddCoords(True)(x), layer.conv.weight, layer.conv.bias, stride=2, padding=1)
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    assert CoordConv(3, 8, bias=False).conv.bias is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="groups=2 must divide in_channels\\+coords=5"):
        CoordConv(3, 4, groups=2)


def test_forward_backward():
    layer = CoordConv(2, 4, with_r=True)
    x = paddle.randn([2, 2, 5, 7])
    x.stop_gradient = False
    out = layer(x)
    (out * paddle.randn(out.shape)).sum().backward()
    assert float(x.grad.abs().sum()) > 0
    # the weights on the three coordinate channels are trained too
    assert float(layer.conv.weight.grad[:, 2:].abs().sum()) > 0


def test_jit_export_roundtrip_dynamic_sizes(tmp_path):
    layer = CoordConv(3, 4, with_r=True)
    layer.eval()
    static = paddle.jit.to_static(layer, input_spec=[InputSpec([None, 3, None, None], "float32")],
                                  full_graph=True)
    paddle.jit.save(static, str(tmp_path / "coord"))
    loaded = paddle.jit.load(str(tmp_path / "coord"))
    for h, w in [(5, 9), (4, 4)]:
        x = paddle.randn([2, 3, h, w])
        np.testing.assert_allclose(loaded(x).numpy(), layer(x).numpy(), rtol=1e-5, atol=1e-5)
