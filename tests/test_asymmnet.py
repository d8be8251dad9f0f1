import math

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.layers.conv_bn import ConvBNAct
from paddle_tricks.models import create_model
from paddle_tricks.models.asymmnet import _LARGE, _SMALL, AsymmBottleneck, _HardSigmoidSE
from paddle_tricks.utils.complexity import count_madds, count_params

WIDTHS = (0.35, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def large():
    return create_model("asymmnet_large")


def _madds_m(name, **kwargs):
    return count_madds(create_model(name, **kwargs)) / 1e6


def _official_params(cfg, last, width=1.0, r=1, classes=1000):
    """Learnable parameters of the official Spark001/AsymmNet PyTorch port, by arithmetic alone."""
    def ceil8(v):
        return int(math.ceil(v / 8) * 8)

    cin = ceil8(16 * width)
    total = 3 * cin * 9 + 2 * cin                              # stem conv + BN
    for k, exp, out, se, _, _ in cfg:
        mid, out = ceil8(exp * width), ceil8(out * width)
        if mid > max(cin, r * cin):
            total += cin * (mid - r * cin) + 2 * (mid - r * cin)   # expand 1×1 + BN
            mid += r * cin
        total += mid * k * k + 2 * mid                             # depthwise + BN
        if se:
            sq = ceil8(mid // 4)
            total += mid * sq + sq + sq * mid + mid                # two biased 1×1 FCs
        total += mid * out + 2 * out                               # linear projection + BN
        cin = out
    last = ceil8(last * width)
    return total + cin * last + 2 * last + last * 1280 + 1280 * classes + classes


def test_large_madds_and_params_match_official(large):
    madds = count_madds(large) / 1e6
    assert abs(madds - 216.9) <= 0.02 * 216.9
    assert round(madds, 2) == 216.92  # official checkpoints/macc.txt: 216.92 million
    params = count_params(large)
    assert params == _official_params(_LARGE, 960) == 6_076_608
    # Paddle's summary (6.10 M) adds the BN running mean/var: 2 × 12,200 BN channels
    assert count_params(large, include_bn_stats=True) == 6_101_008
    # the paper's 5.99 M = macc.txt's 5,991,776, whose tool counts depthwise weights as C·k
    # instead of C·k² and the stem conv as 144 weights instead of 432
    dw_undercount = sum(c * k * (k - 1) for c, _, k, _ in (b.dw.conv.weight.shape for b in large.blocks))
    assert dw_undercount == 84_544
    assert 5_991_776 + dw_undercount + (432 - 144) == params


def test_small_and_half_width_madds():
    small = create_model("asymmnet_small")
    madds = count_madds(small) / 1e6
    assert abs(madds - 57.7) <= 0.02 * 57.7
    assert count_params(small) == _official_params(_SMALL, 576) == 3_131_896  # paper: 3.1 M
    half = create_model("asymmnet_large", width_mult=0.5)
    assert abs(count_madds(half) / 1e6 - 67.2) <= 0.02 * 67.2
    assert count_params(half) == _official_params(_LARGE, 960, width=0.5) == 2_844_976  # paper: 2.8 M


def test_asymmrate_zero_is_mobilenetv3_block():
    net = create_model("asymmnet_large", asymmrate=0)
    madds = count_madds(net) / 1e6
    assert abs(madds - 216.6) <= 0.02 * 216.6 and round(madds, 1) == 216.6
    assert count_params(net) == _official_params(_LARGE, 960, r=0)
    block = net.blocks[1]  # 16 → 64 → 24: expand straight to 64, no copies
    assert block.expand.conv.weight.shape[:2] == [64, 16]
    assert block.dw.conv.weight.shape[0] == 64


def test_block2_layout(large):
    block = large.blocks[1]  # k3, exp 64, 16 → 24, stride 2
    assert block.expand.conv.weight.shape[:2] == [48, 16]   # exp − r·C_in = 64 − 16
    assert block.dw.conv.weight.shape[0] == 80              # 48 + 2 × 16 copies
    assert block.dw.conv._groups == 80
    assert block.project.conv.weight.shape[:2] == [24, 80]
    assert large.blocks[0].expand is None                   # exp 16 == C_in 16: no expansion
    assert large.blocks[3].se.fc1.weight.shape[0] == 24     # SE on 96 = 72 + 24 channels


def test_copies_of_input_sit_on_both_sides_of_expansion():
    paddle.seed(1)
    block = AsymmBottleneck(8, 40, 16, 3, 1, "relu", use_se=True, asymmrate=2)
    block.eval()
    x = paddle.randn([2, 8, 6, 6])
    seen = {}

    block.dw.register_forward_pre_hook(lambda layer, inputs: seen.update(dw_in=inputs[0]))
    block.project.register_forward_pre_hook(lambda layer, inputs: seen.update(project_in=inputs[0]))
    block(x)
    # the SE sits after the depthwise unit's BN + activation, before the linear projection
    np.testing.assert_allclose(seen["project_in"].numpy(), block.se(block.dw(seen["dw_in"])).numpy(), rtol=1e-6)
    feats, e = seen["dw_in"].numpy(), block.expand(x).numpy()
    assert e.shape[1] == 40 - 2 * 8 and feats.shape[1] == 40 + 2 * 8
    np.testing.assert_allclose(feats[:, :16], np.concatenate([x.numpy()] * 2, 1))
    np.testing.assert_allclose(feats[:, 16:40], e, rtol=1e-6)
    np.testing.assert_allclose(feats[:, 40:], np.concatenate([x.numpy()] * 2, 1))
    assert block.se.fc1.weight.shape[:2] == [16, 56]


@pytest.mark.parametrize("name, expected", [
    ("asymmnet_large", [0, 2, 4, 5, 7, 8, 9, 11, 13, 14]),
    ("asymmnet_small", [2, 4, 5, 7, 9, 10]),
])
def test_residual_exactly_where_shapes_allow(name, expected):
    net = create_model(name, num_classes=4, width_mult=0.35)
    net.eval()
    cfg = _LARGE if name == "asymmnet_large" else _SMALL
    ins = [16] + [row[2] for row in cfg[:-1]]  # block inputs: stem 16, then previous outputs
    assert [i for i, row in enumerate(cfg) if row[5] == 1 and ins[i] == row[2]] == expected
    found = []
    for i, block in enumerate(net.blocks):
        # silence the branch (BN γ = β = 0): a residual block becomes the identity, others output 0
        block.project.bn.weight.set_value(paddle.zeros_like(block.project.bn.weight))
        block.project.bn.bias.set_value(paddle.zeros_like(block.project.bn.bias))
        x = paddle.randn([1, block.dw.conv.weight.shape[0] if block.expand is None
                          else block.expand.conv.weight.shape[1], 8, 8])
        y = block(x).numpy()
        if block.use_residual:
            found.append(i)
            np.testing.assert_allclose(y, x.numpy(), atol=1e-6)
        else:
            assert np.abs(y).max() == 0
    assert found == expected


def test_se_is_hard_sigmoid_gate_with_ceil_width():
    se = _HardSigmoidSE(200)
    assert se.fc1.weight.shape[:2] == [56, 200]  # 200 // 4 = 50 → rounded up to 56 (nearest would be 48)
    assert se.fc1.bias is not None and se.fc2.bias is not None
    for p in se.parameters():
        p.set_value(paddle.randn(p.shape) * 0.5)
    x = paddle.randn([2, 200, 3, 3])
    w1, b1 = se.fc1.weight.numpy()[:, :, 0, 0], se.fc1.bias.numpy()
    w2, b2 = se.fc2.weight.numpy()[:, :, 0, 0], se.fc2.bias.numpy()
    s = np.maximum(x.numpy().mean((2, 3)) @ w1.T + b1, 0) @ w2.T + b2
    gate = np.clip(s + 3, 0, 6) / 6
    assert (gate == 0).any() and (gate == 1).any() and ((gate > 0) & (gate < 1)).any()
    np.testing.assert_allclose(se(x).numpy(), x.numpy() * gate[:, :, None, None], rtol=1e-5, atol=1e-5)


def test_stem_head_and_width_scaling():
    net = create_model("asymmnet_large", num_classes=16, width_mult=0.5)
    assert isinstance(net.stem, ConvBNAct) and isinstance(net.stem.act, nn.Hardswish)
    assert net.stem.conv._stride == [2, 2] and net.stem.conv.weight.shape == [8, 3, 3, 3]
    assert net.last_conv.conv.weight.shape[:2] == [480, 80]           # 960·0.5, BN + hswish
    assert isinstance(net.last_conv.act, nn.Hardswish)
    assert net.head_conv.weight.shape[:2] == [1280, 480]               # not width-scaled
    assert net.head_conv.bias is None
    assert net.fc.weight.shape == [1280, 16]
    assert net.dropout.p == 0.2
    acts = [type(b.dw.act) for b in net.blocks]
    assert acts == [nn.ReLU] * 6 + [nn.Hardswish] * 9


@pytest.mark.parametrize("name", ["asymmnet_large", "asymmnet_small"])
def test_forward_backward_every_width(name):
    for width in WIDTHS:
        net = create_model(name, num_classes=16, width_mult=width)
        net.train()
        x = paddle.randn([2, 3, 64, 64])
        out = net(x)
        assert out.shape == [2, 16]
        loss = nn.functional.cross_entropy(out, paddle.to_tensor([1, 5]))
        loss.backward()
        grads = [p.grad for p in net.parameters() if not p.stop_gradient]
        assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
        assert np.abs(net.stem.conv.weight.grad.numpy()).sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="asymmrate"):
        create_model("asymmnet_large", asymmrate=-1)
    with pytest.raises(ValueError, match="width_mult"):
        create_model("asymmnet_small", width_mult=0)
    with pytest.raises(TypeError, match="multiplier"):
        create_model("asymmnet_small", multiplier=0.5)
