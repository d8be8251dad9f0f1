import numpy as np
import paddle
import pytest

from paddle_tricks.layers import DropBlock
from paddle_tricks.layers.dropblock import linear_keep_prob, set_dropblock_keep_prob


def _erode_dilate(drop, bs):
    """Morphological opening of a 2-D boolean map with a bs×bs square (blocks fully inside)."""
    h, w = drop.shape
    seeds = np.zeros_like(drop)
    for i in range(h - bs + 1):
        for j in range(w - bs + 1):
            seeds[i, j] = drop[i:i + bs, j:j + bs].all()
    opened = np.zeros_like(drop)
    for i, j in zip(*np.nonzero(seeds)):
        opened[i:i + bs, j:j + bs] = True
    return opened


def test_eval_is_identity():
    layer = DropBlock(3, 0.5)
    layer.eval()
    x = paddle.randn([2, 3, 8, 8])
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    layer.train()
    layer.set_keep_prob(1.0)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_gamma_formula():
    layer = DropBlock(7, 0.9)
    assert layer.gamma(28, 28) == pytest.approx(0.1 * 28 ** 2 / 7 ** 2 / 22 ** 2)
    assert layer.gamma(10, 20) == pytest.approx(0.1 * 200 / (49 * 4 * 14))


@pytest.mark.parametrize("bs,keep", [(5, 0.9), (3, 0.8), (4, 0.9)])
def test_kept_fraction_close_to_keep_prob(bs, keep):
    layer = DropBlock(bs, keep)
    layer.train()
    x = paddle.ones([8, 16, 64, 64])
    y = layer(x).numpy()
    kept = (y != 0).mean()
    assert abs(kept - keep) < 0.02
    # rescaled by the kept fraction: the mean of an all-ones input is preserved exactly
    assert y.mean() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(np.unique(y[y != 0]), [1.0 / kept], rtol=1e-5)


@pytest.mark.parametrize("bs", [3, 4, 5])
def test_dropped_regions_are_whole_blocks_inside_map(bs):
    layer = DropBlock(bs, 0.9)
    layer.train()
    y = layer(paddle.ones([2, 3, 24, 24])).numpy()
    n_dropped = 0
    for n in range(2):
        for c in range(3):
            drop = y[n, c] == 0
            n_dropped += drop.sum()
            # the dropped set is exactly a union of bs×bs squares lying inside the map
            np.testing.assert_array_equal(_erode_dilate(drop, bs), drop)
    assert n_dropped > 0


def test_single_seed_gives_one_square():
    layer = DropBlock(3, 0.9)
    noise = np.ones((1, 1, 7, 8), "float32")
    noise[0, 0, 3, 4] = 0.0  # one seed at (3, 4)
    mask = layer.block_mask(paddle.to_tensor(noise)).numpy()[0, 0]
    expected = np.ones((7, 8), "float32")
    expected[2:5, 3:6] = 0
    np.testing.assert_array_equal(mask, expected)
    # even block size: SAME padding puts the extra cell bottom/right, block spans rows 2..5
    layer4 = DropBlock(4, 0.9)
    mask4 = layer4.block_mask(paddle.to_tensor(noise)).numpy()[0, 0]
    expected4 = np.ones((7, 8), "float32")
    expected4[1:5, 2:6] = 0
    np.testing.assert_array_equal(mask4, expected4)
    # seeds outside the valid centre region are ignored
    noise[0, 0, 3, 4] = 1.0
    noise[0, 0, 0, 0] = 0.0
    assert layer.block_mask(paddle.to_tensor(noise)).numpy().min() == 1.0


def test_masks_differ_across_channels():
    layer = DropBlock(3, 0.7)
    layer.train()
    y = layer(paddle.ones([1, 4, 16, 16])).numpy()[0] == 0
    assert all(y[c].any() for c in range(4))
    assert not all(np.array_equal(y[0], y[c]) for c in range(1, 4))


def test_block_equal_to_map_drops_whole_channels():
    layer = DropBlock(7, 0.5)
    layer.train()
    y = layer(paddle.ones([4, 32, 5, 5])).numpy()
    per_channel = (y == 0).reshape(4, 32, -1)
    assert np.all(per_channel.all(-1) | ~per_channel.any(-1))
    assert 0 < per_channel.all(-1).mean() < 1


def test_mean_preserved_approximately_for_random_input():
    layer = DropBlock(3, 0.9)
    layer.train()
    x = paddle.rand([4, 16, 32, 32]) + 1.0
    assert float(layer(x).mean()) == pytest.approx(float(x.mean()), rel=0.02)


def test_schedule_and_setter():
    assert linear_keep_prob(0, 100) == 1.0
    assert linear_keep_prob(50, 100, final=0.9) == pytest.approx(0.95)
    assert linear_keep_prob(500, 100, final=0.9) == pytest.approx(0.9)
    net = paddle.nn.Sequential(DropBlock(3, 0.9), paddle.nn.ReLU(), DropBlock(5, 0.8))
    assert set_dropblock_keep_prob(net, 0.95) == 2
    assert net[0].keep_prob == net[2].keep_prob == 0.95


def test_forward_backward():
    layer = DropBlock(3, 0.8)
    layer.train()
    x = paddle.randn([2, 3, 12, 12])
    x.stop_gradient = False
    y = layer(x)
    y.sum().backward()
    g = x.grad.numpy()
    mask = y.numpy() != 0
    assert np.all(g[~mask] == 0) and np.all(g[mask] > 1.0)  # gradient is mask / kept fraction


def test_export_is_identity(tmp_path):
    layer = DropBlock(3, 0.9)
    layer.eval()
    x = paddle.randn([2, 3, 8, 8])
    path = str(tmp_path / "db")
    paddle.jit.save(layer, path, input_spec=[paddle.static.InputSpec([None, 3, 8, 8], "float32")])
    np.testing.assert_array_equal(paddle.jit.load(path)(x).numpy(), x.numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="keep_prob"):
        DropBlock(3, 0.0)
    with pytest.raises(ValueError, match="block_size"):
        DropBlock(0)
    with pytest.raises(ValueError, match="keep_prob"):
        DropBlock(3).set_keep_prob(1.5)
