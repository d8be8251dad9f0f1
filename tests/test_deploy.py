import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.deploy import fuse_conv_bn, reparameterize
from paddle_tricks.layers import ACBlock
from paddle_tricks.layers.conv_bn import ConvBNAct
from helpers import randomise_bn as _randomise_bn


def _n_params(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


class TinyNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.stem = ConvBNAct(3, 8, 3, stride=2)
        self.acb = ACBlock(8, 8, 3, groups=2)
        self.dw = ConvBNAct(8, 8, 3, groups=8, act="hswish")
        self.seq = nn.Sequential(nn.Conv2D(8, 16, 1), nn.BatchNorm2D(16), nn.ReLU())
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.seq(self.dw(self.acb(self.stem(x))))
        return self.head(x.mean(axis=[2, 3]))


def test_fuse_conv_bn_matches_bn_of_conv():
    for bias in (False, None):
        conv = nn.Conv2D(4, 6, 3, stride=2, padding=1, groups=2, bias_attr=bias)
        bn = nn.BatchNorm2D(6)
        _randomise_bn(nn.Sequential(bn))
        bn.eval()
        x = paddle.randn([2, 4, 9, 9])
        fused = fuse_conv_bn(conv, bn)
        assert fused.bias is not None and fused._stride == [2, 2] and fused._groups == 2
        np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_fuse_conv_bn_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="num_features"):
        fuse_conv_bn(nn.Conv2D(3, 4, 1), nn.BatchNorm2D(5))


def test_reparameterize_same_logits_fewer_params():
    net = TinyNet()
    _randomise_bn(net)
    net.train()
    x = paddle.randn([2, 3, 16, 16])
    net.eval()
    ref = net(x).numpy()
    n_before = _n_params(net)
    out = reparameterize(net)
    assert out is net and not net.training
    assert net.acb.deploy
    assert isinstance(net.stem.bn, nn.Identity) and isinstance(net.dw.bn, nn.Identity)
    assert isinstance(net.seq[1], nn.Identity) and net.seq[0].bias is not None
    assert not any(isinstance(m, nn.BatchNorm2D) for m in net.sublayers())
    # BN: 2C params removed per pair, C bias added; ACB: 3 kernels + 3 BNs -> one biased kernel
    assert _n_params(net) < n_before
    np.testing.assert_allclose(net(x).numpy(), ref, rtol=1e-5, atol=1e-5)
    # idempotent
    reparameterize(net)
    np.testing.assert_allclose(net(x).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_reparameterize_leaves_custom_forward_alone():
    class Custom(ConvBNAct):
        def forward(self, x):  # BN before conv: must not be fused
            return self.conv(self.bn(x))

    layer = Custom(4, 4, 3, act=None)
    _randomise_bn(layer)
    layer.eval()
    x = paddle.randn([1, 4, 6, 6])
    ref = layer(x).numpy()
    reparameterize(layer)
    assert isinstance(layer.bn, nn.BatchNorm2D)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-6)


def test_reparameterize_skips_unfoldable_pairs():
    class ShiftConv(nn.Conv2D):
        def forward(self, x):  # custom forward: not a plain conv
            return super().forward(x + 1.0)

    seq = nn.Sequential(ShiftConv(3, 4, 3, padding=1), nn.BatchNorm2D(4),
                        nn.Conv2D(4, 4, 1), nn.BatchNorm2D(4, use_global_stats=False))
    _randomise_bn(seq)
    seq.eval()
    x = paddle.randn([2, 3, 5, 5])
    ref = seq(x).numpy()
    reparameterize(seq)
    assert isinstance(seq[1], nn.BatchNorm2D) and isinstance(seq[3], nn.BatchNorm2D)
    np.testing.assert_allclose(seq(x).numpy(), ref, rtol=1e-6)


def test_reparameterized_model_exports(tmp_path):
    net = TinyNet()
    _randomise_bn(net)
    x = paddle.randn([2, 3, 16, 16])
    net.eval()
    ref = net(x).numpy()
    reparameterize(net)
    path = str(tmp_path / "net")
    paddle.jit.save(net, path, input_spec=[paddle.static.InputSpec([None, 3, 16, 16], "float32")])
    loaded = paddle.jit.load(path)
    np.testing.assert_allclose(loaded(x).numpy(), ref, rtol=1e-5, atol=1e-5)
