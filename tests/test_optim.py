"""Weight decay: exempt parameters (BN, biases, ACON's p1/p2/beta) really receive none."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.optim import build_optimizer, split_decay_params
from paddle_tricks.layers import AconC


def cfg(name, exempt):
    return dict(name=name, momentum=0.9, nesterov=False, weight_decay=0.5, no_weight_decay_bn_bias=exempt,
                beta1=0.9, beta2=0.999, grad_clip=None)


@pytest.mark.parametrize("name", ["Momentum", "SGD", "AdamW"])
@pytest.mark.parametrize("exempt", [True, False])
def test_decay_reaches_only_the_right_parameters(name, exempt):
    net = nn.Sequential(nn.Conv2D(2, 2, 1), nn.BatchNorm2D(2), AconC(2))
    opt = build_optimizer(cfg(name, exempt), net, 0.1)
    before = {k: p.numpy().copy() for k, p in net.named_parameters() if not p.stop_gradient}
    loss = (net(paddle.ones([2, 2, 3, 3])) * 0).sum()   # zero gradient: only decay can move a weight
    loss.backward()
    opt.minimize(loss)
    moved = {k for k, p in net.named_parameters() if k in before and not np.allclose(p.numpy(), before[k])}
    acon = {k for k in before if k.startswith("2.")}
    assert "0.weight" in moved
    assert not moved & acon                      # ACON parameters never decay
    if exempt:
        assert moved == {"0.weight"}
    else:
        assert "1.weight" in moved               # BN gamma (init 1) decays when not exempt


def test_split_counts():
    net = nn.Sequential(nn.Conv2D(2, 4, 3), nn.BatchNorm2D(4), nn.Linear(4, 3))
    decay, no_decay = split_decay_params(net, True)
    assert sorted(p.shape for p in decay) == [[4, 2, 3, 3], [4, 3]]
    assert len(no_decay) == 4
