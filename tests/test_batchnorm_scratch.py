"""BatchNormScratch equals Paddle's BatchNorm1D/2D: outputs, running statistics and gradients."""
import numpy as np
import paddle
import pytest

from paddle_tricks.layers import BatchNormScratch


def _pair(ref_cls, c, rng):
    ref = ref_cls(c)
    mine = BatchNormScratch(c)
    w = rng.uniform(0.5, 1.5, c).astype("float32")
    b = rng.uniform(-0.5, 0.5, c).astype("float32")
    for layer in (ref, mine):
        layer.weight.set_value(w)
        layer.bias.set_value(b)
    return ref, mine


@pytest.mark.parametrize("ref_cls,shape", [
    (paddle.nn.BatchNorm1D, (6, 4)),
    (paddle.nn.BatchNorm1D, (5, 4, 3)),
    (paddle.nn.BatchNorm2D, (3, 4, 5, 2)),
])
def test_equals_paddle_batchnorm_over_training_steps(ref_cls, shape):
    rng = np.random.RandomState(0)
    c = shape[1]
    ref, mine = _pair(ref_cls, c, rng)
    ref.train()
    mine.train()
    for step in range(4):
        # shifted, scaled data so the statistics move far from their initial 0 / 1
        x = (rng.randn(*shape) * (2.0 + step) + 3.0).astype("float32")
        upstream = rng.randn(*shape).astype("float32")
        xr = paddle.to_tensor(x, stop_gradient=False)
        xm = paddle.to_tensor(x, stop_gradient=False)
        yr, ym = ref(xr), mine(xm)
        np.testing.assert_allclose(ym.numpy(), yr.numpy(), rtol=1e-4, atol=1e-5)
        (yr * paddle.to_tensor(upstream)).sum().backward()
        (ym * paddle.to_tensor(upstream)).sum().backward()
        np.testing.assert_allclose(xm.grad.numpy(), xr.grad.numpy(), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(mine.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(mine.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        for layer in (ref, mine):
            layer.clear_gradients()
        np.testing.assert_allclose(mine._mean.numpy(), ref._mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mine._variance.numpy(), ref._variance.numpy(), rtol=1e-5, atol=1e-6)
    # the statistics really moved (a layer that never updates them would fail above, but be explicit)
    assert np.abs(mine._mean.numpy()).min() > 0.5
    ref.eval()
    mine.eval()
    x = (rng.randn(*shape) * 3.0 + 1.0).astype("float32")
    np.testing.assert_allclose(mine(paddle.to_tensor(x)).numpy(), ref(paddle.to_tensor(x)).numpy(),
                               rtol=1e-4, atol=1e-5)
    # eval leaves the statistics alone
    before = mine._variance.numpy().copy()
    mine(paddle.to_tensor(x))
    np.testing.assert_array_equal(mine._variance.numpy(), before)


def test_running_variance_is_biased_in_paddle_and_here():
    """Paddle updates the moving variance with the biased batch variance (unlike PyTorch)."""
    x = np.array([[1.0], [2.0], [4.0], [7.0]], "float32")
    for layer in (paddle.nn.BatchNorm1D(1), BatchNormScratch(1)):
        layer.train()
        layer(paddle.to_tensor(x))
        expected = 0.9 * 1.0 + 0.1 * x.var()  # biased: divide by 4
        np.testing.assert_allclose(layer._variance.numpy(), [expected], rtol=1e-6)
        np.testing.assert_allclose(layer._mean.numpy(), [0.1 * x.mean()], rtol=1e-6)


def test_state_dict_interchangeable_and_stats_are_buffers():
    ref = paddle.nn.BatchNorm2D(3)
    ref.train()
    ref(paddle.randn([4, 3, 2, 2]) * 2 + 1)
    mine = BatchNormScratch(3)
    mine.set_state_dict(ref.state_dict())
    np.testing.assert_array_equal(mine._variance.numpy(), ref._variance.numpy())
    assert sorted(n for n, _ in mine.named_parameters()) == ["bias", "weight"]
    assert {"_mean", "_variance"} <= set(mine.state_dict())


def test_bad_input_rank():
    with pytest.raises(ValueError, match="2-D, 3-D or 4-D"):
        BatchNormScratch(3)(paddle.randn([3]))
