import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from paddle_tricks.utils.complexity import count_madds, count_params, model_complexity
from paddle_tricks.utils.make_divisible import ceil_divisible, make_divisible


class _Tiny(nn.Layer):
    """conv 3×3 s2 → BN → ReLU → depthwise 3×3 → grouped 1×1 → GAP → Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3, stride=2, padding=1)           # with bias
        self.bn = nn.BatchNorm2D(8)
        self.act = nn.ReLU()
        self.dw = nn.Conv2D(8, 8, 3, padding=1, groups=8, bias_attr=False)
        self.gconv = nn.Conv2D(8, 16, 1, groups=4, bias_attr=False)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.gconv(self.dw(self.act(self.bn(self.conv(x)))))
        return self.fc(paddle.flatten(self.pool(x), 1))


# hand count on a 1×3×16×16 input: every conv output is 8×8 = 64 positions
_TINY_MADDS = (3 * 3 * 3 * 8 * 64      # conv: k·k·Cin·Cout·H·W = 13,824
               + 3 * 3 * 1 * 8 * 64    # depthwise: Cin/groups = 1 → 4,608
               + 1 * 1 * 2 * 16 * 64   # grouped 1×1, 4 groups: Cin/groups = 2 → 2,048
               + 16 * 10)              # linear: 160
_TINY_PARAMS = (3 * 3 * 3 * 8 + 8      # conv weight + bias
                + 8 + 8                # BN γ, β
                + 3 * 3 * 8            # depthwise
                + 2 * 16               # grouped 1×1
                + 16 * 10 + 10)        # linear


def test_madds_of_tiny_net_match_hand_count():
    assert _TINY_MADDS == 20_640
    assert count_madds(_Tiny(), (1, 3, 16, 16)) == _TINY_MADDS
    # the count is for the whole batch
    assert count_madds(_Tiny(), (3, 3, 16, 16)) == 3 * _TINY_MADDS


def test_params_of_tiny_net_match_hand_count():
    net = _Tiny()
    assert count_params(net) == _TINY_PARAMS == 514
    assert count_params(net, include_bn_stats=True) == _TINY_PARAMS + 2 * 8  # running mean + var
    net.fc.weight.stop_gradient = True
    assert count_params(net, trainable_only=True) == _TINY_PARAMS - 160
    assert count_params(net) == _TINY_PARAMS
    assert model_complexity(_Tiny(), (1, 3, 16, 16)) == {"params": 514, "madds": 20_640}


def test_shared_layer_counts_per_call_and_params_once():
    class Twice(nn.Layer):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 4, bias_attr=False)

        def forward(self, x):  # x: [B, 5, 16]; a Linear on a 3-D input works on every row
            return self.fc(x) + self.fc(x)

    net = Twice()
    assert count_params(net) == 64
    assert count_madds(net, (1, 5, 16)) == 2 * 5 * 16 * 4


def test_transposed_conv_counts_per_input_position():
    net = nn.Conv2DTranspose(4, 6, 3, stride=2, groups=2, bias_attr=False)  # weight [4, 3, 3, 3]
    assert count_madds(net, (1, 4, 5, 5)) == 4 * 3 * 3 * 3 * 25


def test_custom_madds_method_replaces_its_subtree():
    class FunctionalConv(nn.Layer):
        """Calls F.conv2d on its own weight; the inner Conv2D must not be counted twice."""

        def __init__(self):
            super().__init__()
            self.weight = self.create_parameter([4, 3, 3, 3])
            self.inner = nn.Conv2D(3, 4, 3, padding=1)

        def forward(self, x):
            return F.conv2d(x, self.weight, padding=1) + self.inner(x)

        def madds(self, inputs, output):
            return 2 * 4 * 3 * 9 * output.shape[2] * output.shape[3]  # both convs

    net = nn.Sequential(FunctionalConv(), nn.Conv2D(4, 2, 1, bias_attr=False))
    assert count_madds(net, (1, 3, 8, 8)) == 2 * 4 * 3 * 9 * 64 + 4 * 2 * 64


def test_modes_restored_and_bn_statistics_untouched():
    net = _Tiny()
    net.train()
    net.bn.eval()  # a mixed state (frozen BN) must survive
    mean_before = net.bn._mean.numpy().copy()
    count_madds(net, (2, 3, 16, 16))
    assert net.training and net.conv.training and net.fc.training
    assert not net.bn.training
    assert (net.bn._mean.numpy() == mean_before).all()
    net.eval()
    count_madds(net, (1, 3, 16, 16))
    assert not net.training and not net.fc.training
    # hooks were removed: a second count is not doubled
    assert count_madds(net, (1, 3, 16, 16)) == _TINY_MADDS


def test_rounding_rules():
    # MobileNet rule: nearest multiple of 8, never 10 % below
    assert [make_divisible(v) for v in (32 * 0.35, 16 * 0.35, 1280 * 1.4, 20, 12)] == [16, 8, 1792, 24, 16]
    assert make_divisible(90, 40) == 120  # 80 would be > 10 % below 90
    # AsymmNet rule: always up
    assert [ceil_divisible(v) for v in (16 * 0.35, 50, 48, 960 * 0.35)] == [8, 56, 48, 336]
    with pytest.raises(ValueError, match="divisor"):
        ceil_divisible(10, 0)


def test_channels_last_conv():
    net = nn.Conv2D(3, 4, 3, padding=1, data_format="NHWC", bias_attr=False)
    assert count_madds(net, (1, 5, 6, 3)) == 3 * 3 * 3 * 4 * 5 * 6
