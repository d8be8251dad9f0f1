import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.layers.conv_bn import ConvBNAct
from paddle_tricks.models import create_model
from paddle_tricks.utils.complexity import count_madds, count_params


@pytest.fixture(scope="module")
def mnv2():
    return create_model("mobilenet_v2")


def test_params_equal_paddle_vision_and_madds_near_300m(mnv2):
    reference = paddle.vision.models.mobilenet_v2()
    assert count_params(mnv2) == count_params(reference) == 3_504_872
    assert count_params(mnv2, include_bn_stats=True) == count_params(reference, include_bn_stats=True)
    madds = count_madds(mnv2) / 1e6
    assert abs(madds - 300) <= 0.02 * 300  # paper: 300 M
    for width in (0.5, 1.4):
        assert count_params(create_model("mobilenet_v2", width_mult=width)) == \
            count_params(paddle.vision.models.mobilenet_v2(scale=width))


def test_same_function_as_paddle_vision_with_copied_weights():
    """Copying Paddle's weights (in order) into ours gives the same outputs: same layers, same wiring."""
    ours = create_model("mobilenet_v2", num_classes=10, width_mult=0.5)
    reference = paddle.vision.models.mobilenet_v2(scale=0.5, num_classes=10)
    ref_state = reference.state_dict()
    our_state = ours.state_dict()
    assert len(our_state) == len(ref_state)
    # non-trivial BN statistics, γ, β and biases (every 1-D tensor drawn from [0.5, 3)), and conv
    # weights scaled up so that ReLU6 clips often
    values = {k: paddle.rand(v.shape) * 2.5 + 0.5 if len(v.shape) == 1 else v * 3 if len(v.shape) == 4 else v
              for k, v in ref_state.items()}
    reference.set_state_dict(values)
    for (ours_key, ours_value), (ref_key, value) in zip(our_state.items(), values.items()):
        assert ours_value.shape == value.shape, (ours_key, ref_key)
    ours.set_state_dict(dict(zip(our_state, values.values())))
    ours.eval()
    reference.eval()
    x = paddle.randn([2, 3, 64, 64])
    np.testing.assert_allclose(ours(x).numpy(), reference(x).numpy(), rtol=1e-4, atol=1e-5)


def test_structure(mnv2):
    blocks = list(mnv2.features)[1:-1]
    assert len(blocks) == 17
    assert [i for i, b in enumerate(blocks) if b.use_residual] == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]
    assert blocks[0].expand is None and blocks[1].expand.conv.weight.shape[:2] == [96, 16]
    units = [layer for layer in mnv2.sublayers() if isinstance(layer, ConvBNAct)]
    assert all(isinstance(u.act, (nn.ReLU6, nn.Identity)) for u in units)
    assert sum(isinstance(u.act, nn.Identity) for u in units) == 17  # the linear projections
    assert mnv2.fc.weight.shape == [1280, 1000]


def test_forward_backward_small_input():
    net = create_model("mobilenet_v2", num_classes=16, width_mult=0.35)
    out = net(paddle.randn([2, 3, 64, 64]))
    assert out.shape == [2, 16]
    nn.functional.cross_entropy(out, paddle.to_tensor([0, 15])).backward()
    grads = [p.grad for p in net.parameters() if not p.stop_gradient]
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert np.abs(net.features[0].conv.weight.grad.numpy()).sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="width_mult"):
        create_model("mobilenet_v2", width_mult=-1)
    with pytest.raises(ValueError, match="dropout"):
        create_model("mobilenet_v2", dropout=1.5)
