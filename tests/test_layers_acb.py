import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.layers import ACBlock
from helpers import randomise_bn as _randomise_bn, assert_export_roundtrip as _export_roundtrip


@pytest.mark.parametrize("k,p,groups,stride", [
    (3, 1, 1, 1), (3, 0, 1, 1), (3, 2, 1, 1), (5, 2, 1, 1), (5, 1, 1, 1), (5, 0, 1, 1),
    (5, 3, 1, 1), (3, 1, 2, 1), (3, 1, 1, 2), (5, 1, 4, 2), (3, 0, 2, 2),
])
def test_train_and_deploy_forms_agree(k, p, groups, stride):
    block = ACBlock(4, 8, k, stride=stride, padding=p, groups=groups)
    _randomise_bn(block)
    block.eval()
    x = paddle.randn([2, 4, 11, 13])
    y = block(x)
    # expected output size of a plain k×k conv with padding p
    oh = (11 + 2 * p - k) // stride + 1
    ow = (13 + 2 * p - k) // stride + 1
    assert y.shape == [2, 8, oh, ow]
    n_before = sum(int(np.prod(q.shape)) for q in block.parameters())
    block.switch_to_deploy()
    assert block.deploy and not hasattr(block, "square_conv") and not hasattr(block, "hor_bn")
    assert isinstance(block.fused_conv, nn.Conv2D) and block.fused_conv.bias is not None
    n_after = sum(int(np.prod(q.shape)) for q in block.parameters())
    assert n_after < n_before
    np.testing.assert_allclose(block(x).numpy(), y.numpy(), rtol=1e-5, atol=1e-5)


def test_fused_kernel_places_asymmetric_kernels_on_centre_cross():
    block = ACBlock(1, 1, 3, padding=1)
    block.square_conv.weight.set_value(paddle.zeros([1, 1, 3, 3]))
    block.hor_conv.weight.set_value(paddle.to_tensor([[[[1.0, 2.0, 3.0]]]]))
    block.ver_conv.weight.set_value(paddle.to_tensor([[[[10.0], [20.0], [30.0]]]]))
    block.eval()
    w, b = block.get_equivalent_kernel_bias()
    s = 1.0 / np.sqrt(1.0 + 1e-5)  # default BN: mean 0, var 1, gamma 1, beta 0
    expected = np.array([[0, 10, 0], [1, 22, 3], [0, 30, 0]], dtype="float32") * s
    np.testing.assert_allclose(w.numpy()[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [0.0], atol=1e-7)


def test_output_is_sum_of_three_bn_branches():
    block = ACBlock(3, 4, 3)
    _randomise_bn(block)
    block.eval()
    x = paddle.randn([1, 3, 6, 6])
    sq = block.square_bn(block.square_conv(x))
    hor = block.hor_bn(block.hor_conv(x))
    ver = block.ver_bn(block.ver_conv(x))
    np.testing.assert_allclose(block(x).numpy(), (sq + hor + ver).numpy(), rtol=1e-6, atol=1e-6)


def test_gamma_init_one_third():
    block = ACBlock(2, 4, 3, gamma_init=1 / 3)
    for bn in (block.square_bn, block.hor_bn, block.ver_bn):
        np.testing.assert_allclose(bn.weight.numpy(), np.full(4, 1 / 3, "float32"))
    assert np.allclose(ACBlock(2, 4, 3).square_bn.weight.numpy(), 1.0)


def test_deploy_flag_builds_fused_form_and_loads_state():
    train = ACBlock(2, 4, 3, stride=2)
    _randomise_bn(train)
    train.eval()
    x = paddle.randn([1, 2, 8, 8])
    y = train(x)
    train.switch_to_deploy()
    dep = ACBlock(2, 4, 3, stride=2, deploy=True)
    dep.set_state_dict(train.state_dict())
    dep.eval()
    np.testing.assert_allclose(dep(x).numpy(), y.numpy(), rtol=1e-5, atol=1e-5)


def test_forward_backward():
    block = ACBlock(2, 4, 3, padding=0)
    x = paddle.randn([2, 2, 7, 7])
    x.stop_gradient = False
    block(x).square().mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    for conv in (block.square_conv, block.hor_conv, block.ver_conv):
        assert conv.weight.grad is not None and float(conv.weight.grad.abs().sum()) > 0


@pytest.mark.parametrize("deploy", [False, True])
def test_export(tmp_path, deploy):
    block = ACBlock(2, 4, 3, padding=0)
    _randomise_bn(block)
    if deploy:
        block.switch_to_deploy()
    _export_roundtrip(block, paddle.randn([2, 2, 8, 8]), tmp_path)


@pytest.mark.parametrize("kwargs,match", [
    (dict(kernel_size=4), "odd"), (dict(dilation=2), "dilation"), (dict(groups=4), "groups"),
    (dict(padding=-1), "padding"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ACBlock(6, 12, **{"kernel_size": 3, **kwargs})
