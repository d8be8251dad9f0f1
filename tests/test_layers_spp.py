import math

import numpy as np
import paddle
import pytest

from paddle_tricks.layers import SpatialPyramidPooling
from paddle_tricks.models import create_model, list_models


def _manual_spp(x, levels, reduce=np.max):
    n_, c_, h, w = x.shape
    out = []
    for n in levels:
        grid = np.zeros((n_, c_, n, n), x.dtype)
        for i in range(n):
            for j in range(n):
                r0, r1 = (i * h) // n, math.ceil((i + 1) * h / n)
                c0, c1 = (j * w) // n, math.ceil((j + 1) * w / n)
                grid[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
        out.append(grid.reshape(n_, -1))
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("hw", [(32, 32), (47, 61), (7, 7), (3, 5)])
def test_values_equal_manual_max_per_bin(hw):
    x = np.random.randn(2, 3, *hw).astype("float32")
    spp = SpatialPyramidPooling((4, 2, 1))
    y = spp(paddle.to_tensor(x)).numpy()
    assert y.shape == (2, 3 * 21) and spp.output_size(3) == 63
    np.testing.assert_allclose(y, _manual_spp(x, (4, 2, 1)), rtol=1e-6)


def test_avg_pool_and_paper_levels():
    x = np.random.randn(1, 2, 13, 13).astype("float32")
    spp = SpatialPyramidPooling((6, 3, 2, 1), pool_type="avg")
    y = spp(paddle.to_tensor(x)).numpy()
    assert y.shape == (1, 2 * 50)
    np.testing.assert_allclose(y, _manual_spp(x, (6, 3, 2, 1), np.mean), rtol=1e-5, atol=1e-6)


def test_same_length_for_different_sizes():
    spp = SpatialPyramidPooling()
    a = spp(paddle.randn([2, 5, 32, 32]))
    b = spp(paddle.randn([2, 5, 47, 61]))
    assert a.shape == b.shape == [2, 105]


def test_spp_net_registered_and_size_agnostic():
    assert "spp_net" in list_models()
    net = create_model("spp_net", num_classes=10, width=8, hidden=32)
    net.eval()
    assert net(paddle.randn([2, 3, 32, 32])).shape == [2, 10]
    assert net(paddle.randn([1, 3, 47, 61])).shape == [1, 10]
    assert net.classifier[0].weight.shape == [8 * 4 * 21, 32]


def test_forward_backward():
    net = create_model("spp_net", num_classes=4, width=4, hidden=8)
    x = paddle.randn([2, 3, 16, 20])
    loss = paddle.nn.functional.cross_entropy(net(x), paddle.to_tensor([0, 3]))
    loss.backward()
    assert net.features[0].conv.weight.grad is not None
    assert float(net.features[0].conv.weight.grad.abs().sum()) > 0


def test_export_with_dynamic_spatial_size(tmp_path):
    net = create_model("spp_net", num_classes=3, width=4, hidden=8)
    net.eval()
    path = str(tmp_path / "spp")
    paddle.jit.save(net, path, input_spec=[paddle.static.InputSpec([None, 3, None, None], "float32")])
    loaded = paddle.jit.load(path)
    for shape in ([2, 3, 32, 32], [1, 3, 47, 61]):
        x = paddle.randn(shape)
        np.testing.assert_allclose(loaded(x).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="levels"):
        SpatialPyramidPooling((4, 0))
    with pytest.raises(ValueError, match="pool_type"):
        SpatialPyramidPooling(pool_type="min")
