"""SE, SK and Split-Attention: hand computations and the attention-weight properties."""
import numpy as np
import paddle
import pytest

from paddle_tricks.layers import RSoftmax, SEModule, SKConv, SplitAttention


def _randomize(layer, seed=0):
    """Non-trivial weights and BN statistics so that equalities cannot hold by accident."""
    rng = np.random.RandomState(seed)
    for p in layer.parameters():
        p.set_value(rng.uniform(-0.5, 0.5, p.shape).astype("float32"))
    for name, b in layer.named_buffers():
        if name.endswith("_variance"):
            b.set_value(rng.uniform(0.5, 1.5, b.shape).astype("float32"))
        elif name.endswith("_mean"):
            b.set_value(rng.uniform(-0.2, 0.2, b.shape).astype("float32"))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("gate,fn", [
    ("sigmoid", _sigmoid),
    ("hard_sigmoid", lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0)),
    ("paddle_hard_sigmoid", lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0)),
])
def test_se_equals_numpy(gate, fn):
    se = SEModule(32, reduction=8, gate=gate)
    assert se.rd_channels == 4
    rng = np.random.RandomState(1)
    w1 = rng.randn(4, 32).astype("float32")
    b1 = rng.randn(4).astype("float32")
    w2 = rng.randn(32, 4).astype("float32")
    b2 = rng.randn(32).astype("float32")
    se.fc1.weight.set_value(w1[:, :, None, None])
    se.fc1.bias.set_value(b1)
    se.fc2.weight.set_value(w2[:, :, None, None])
    se.fc2.bias.set_value(b2)
    x = rng.randn(3, 32, 5, 4).astype("float32")
    s = x.mean(axis=(2, 3))                       # squeeze
    z = np.maximum(s @ w1.T + b1, 0.0) @ w2.T + b2  # excitation
    expected = x * fn(z)[:, :, None, None]
    se.record_attention = True
    out = se(paddle.to_tensor(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(se.last_attention.numpy()[:, :, 0, 0], fn(z), rtol=1e-5, atol=1e-6)
    # the recorded attention is not state
    assert "last_attention" not in dict(se.named_buffers())


def test_se_widths():
    assert SEModule(256).rd_channels == 16                 # paper: C / 16
    assert SEModule(8, reduction=16).rd_channels == 1       # never below min_channels
    # MobileNetV3 rounding: make_divisible(C / 4, 8) with the 10% rule
    assert SEModule(72, reduction=4, divisor=8).rd_channels == 24
    assert SEModule(96, reduction=4, divisor=8).rd_channels == 24
    assert SEModule(16, reduction=4, divisor=8).rd_channels == 8
    assert SEModule(8, reduction=4, divisor=8).rd_channels == 8   # never below the divisor
    assert SEModule(64, rd_channels=10).rd_channels == 10
    with pytest.raises(ValueError, match="gate"):
        SEModule(16, gate="tanh")


def test_sk_weights_sum_to_one_and_output_is_weighted_sum():
    sk = SKConv(16, 16, groups=4, reduction=4, min_dim=8, num_branches=3)
    _randomize(sk)
    sk.eval()
    assert sk.dim == 8
    x = paddle.randn([2, 16, 7, 7])
    a = sk.attention(x).numpy()
    assert a.shape == (2, 3, 16)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-5)
    assert a.std() > 1e-3  # not a uniform split
    feats = np.stack([b(x).numpy() for b in sk.branches], axis=1)
    expected = (feats * a[:, :, :, None, None]).sum(axis=1)
    np.testing.assert_allclose(sk(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    # branch i is a 3x3 with dilation i + 1
    assert [b.conv._dilation[0] for b in sk.branches] == [1, 2, 3]
    assert all(b.conv._kernel_size[0] == 3 for b in sk.branches)


def test_sk_shapes_and_fuse_width():
    # fuse width d = max(C / 16, 32): 32, 32, 32, 64 in the four SKNet-50 stages
    assert [SKConv(c, c).dim for c in (128, 256, 512, 1024)] == [32, 32, 32, 64]
    sk = SKConv(32, 64, stride=2, groups=8, use_dilation=False)
    assert [b.conv._kernel_size[0] for b in sk.branches] == [3, 5]
    x = paddle.randn([2, 32, 9, 9])
    y = sk(x)
    assert y.shape == [2, 64, 5, 5]
    y.mean().backward()
    assert sk.fc_select.weight.grad is not None
    with pytest.raises(ValueError, match="groups=32"):
        SKConv(48, 48, groups=32)


def test_rsoftmax_layout_matches_official_indexing():
    card, radix, c = 2, 3, 8
    rng = np.random.RandomState(0)
    logits = rng.randn(2, c * radix).astype("float32")
    out = RSoftmax(radix, card)(paddle.to_tensor(logits[:, :, None, None])).numpy()
    assert out.shape == (2, radix, c)
    per = c // card
    expected = np.zeros((2, radix, c), "float32")
    for b in range(2):
        for k in range(card):
            block = logits[b, k * radix * per:(k + 1) * radix * per].reshape(radix, per)
            e = np.exp(block - block.max(axis=0))
            expected[b, :, k * per:(k + 1) * per] = e / e.sum(axis=0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("radix,card", [(2, 1), (4, 2)])
def test_split_attention_weights_sum_to_one(radix, card):
    sa = SplitAttention(16, 16, cardinality=card, radix=radix, min_inter=8)
    _randomize(sa)
    sa.eval()
    x = paddle.randn([2, 16, 6, 6])
    a = sa.attention(x).numpy()
    assert a.shape == (2, radix, 16)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-5)
    conv = sa.conv(x).numpy()
    splits = conv.reshape(2, radix, 16, 6, 6)
    expected = (splits * a[:, :, :, None, None]).sum(axis=1)
    np.testing.assert_allclose(sa(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_split_attention_radix1_uses_sigmoid():
    sa = SplitAttention(16, 16, radix=1, min_inter=8)
    _randomize(sa)
    sa.eval()
    x = paddle.randn([2, 16, 5, 5])
    conv = sa.conv(x)
    logits = sa.fc2(sa.fc1(conv.mean(axis=[2, 3], keepdim=True))).numpy()[:, :, 0, 0]
    a = sa.attention(x).numpy()
    assert a.shape == (2, 1, 16)
    np.testing.assert_allclose(a[:, 0], _sigmoid(logits), rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(sa(x).numpy(), conv.numpy() * a[:, 0, :, None, None], rtol=1e-5, atol=1e-6)


def test_split_attention_widths_and_errors():
    # official: inter = max(in * radix // 4, 32); fc1 and fc2 grouped by cardinality
    assert SplitAttention(64, 64, radix=2).inter_channels == 32
    assert SplitAttention(256, 256, radix=2).inter_channels == 128
    sa = SplitAttention(64, 64, radix=2, cardinality=2)
    assert sa.conv.conv._groups == 4 and sa.fc1.conv._groups == 2 and sa.fc2._groups == 2
    assert sa.fc2.bias is not None
    sa.train()
    x = paddle.randn([2, 64, 8, 8])
    y = sa(x)
    assert y.shape == [2, 64, 8, 8]
    y.mean().backward()
    assert sa.fc2.weight.grad is not None
    with pytest.raises(ValueError, match="cardinality"):
        SplitAttention(30, 30, radix=2, cardinality=2)
