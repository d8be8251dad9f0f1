"""EMA: one update is d*old + (1-d)*new for parameters AND BatchNorm statistics; evaluation can swap it in."""
import numpy as np
import paddle
import paddle.nn as nn

from paddle_tricks.engine.ema import ModelEMA


def small_net():
    return nn.Sequential(nn.Conv2D(3, 4, 3), nn.BatchNorm2D(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))


def test_one_update_is_the_convex_combination():
    net = small_net()
    ema = ModelEMA(net, decay=0.9, warmup=False)
    old = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    # change the parameters and the BN running statistics
    net.train()
    net(paddle.randn([8, 3, 6, 6]) * 3 + 1)
    with paddle.no_grad():
        for p in net.parameters():
            p.set_value(p + paddle.randn(p.shape))
    new = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    ema.update(net)
    for k, e in ema.shadow.items():
        np.testing.assert_allclose(e.numpy(), 0.9 * old[k] + 0.1 * new[k], rtol=1e-5, atol=1e-6)
    assert not np.allclose(new["1._mean"], old["1._mean"])  # the BN statistics did change


def test_warmup_decay_and_swap():
    net = small_net()
    ema = ModelEMA(net, decay=0.9999, warmup=True)
    assert ema.current_decay() == (1 + 0) / (10 + 0)
    ema.updates = 10 ** 7
    assert ema.current_decay() == 0.9999
    raw = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    for e in ema.shadow.values():
        e.set_value(e + 1.0)
    with ema.swapped_in(net):
        for k, v in net.state_dict().items():
            if k in ema.shadow:
                np.testing.assert_allclose(v.numpy(), raw[k] + 1.0, rtol=1e-6)
    for k, v in net.state_dict().items():   # restored afterwards
        np.testing.assert_array_equal(v.numpy(), raw[k])
    state = ema.state_dict()
    other = ModelEMA(small_net())
    other.set_state_dict(state)
    assert other.updates == 10 ** 7
    np.testing.assert_array_equal(other.shadow["4.weight"].numpy(), ema.shadow["4.weight"].numpy())
