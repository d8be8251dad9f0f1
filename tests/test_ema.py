"""EMA: equal to the textbook update d*old + (1-d)*new over parameters AND BatchNorm statistics, every k steps
with d**k, fp32 whatever the model's dtype, no state_dict() per step, and a state that round-trips."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.engine.ema import FUSE_MAX_VALUES, ModelEMA


def small_net():
    """Small tensors (fused in one kernel) and one above FUSE_MAX_VALUES (averaged on its own)."""
    return nn.Sequential(nn.Conv2D(3, 4, 3), nn.BatchNorm2D(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 160))


def test_the_net_has_both_kinds_of_tensor():
    net = small_net()
    assert net[4].weight.size > FUSE_MAX_VALUES > net[0].weight.size


class ReferenceEMA:
    """The EMA as it was before the fused version: a state_dict() and three kernels per tensor per step."""

    def __init__(self, net, decay, warmup, interval=1):
        self.decay, self.warmup, self.interval, self.steps = decay, warmup, interval, 0
        self.shadow = {k: v.astype("float32").clone() for k, v in net.state_dict().items()}

    def update(self, net):
        t = self.steps
        d = min(self.decay, (1 + t) / (10 + t)) if self.warmup else self.decay
        self.steps += 1
        if self.steps % self.interval == 0:
            d = d ** self.interval
            state = net.state_dict()
            for k, e in self.shadow.items():
                e.set_value(e * d + state[k].astype("float32") * (1 - d))


def train_steps(net, n, seed=0):
    """Yield after each of ``n`` SGD steps that change the weights and the BN running statistics."""
    paddle.seed(seed)
    opt = paddle.optimizer.SGD(0.5, parameters=net.parameters())
    net.train()
    for _ in range(n):
        loss = net(paddle.randn([8, 3, 6, 6]) * 3 + 1).square().mean()
        loss.backward()
        opt.step()
        opt.clear_grad()
        yield


def assert_same_weights(ema: ModelEMA, ref: ReferenceEMA, atol=1e-6):
    weights = ema.weights()
    assert set(weights) == set(ref.shadow)
    for k, e in ref.shadow.items():
        assert weights[k].dtype == paddle.float32, k
        np.testing.assert_allclose(weights[k].numpy(), e.numpy(), rtol=0, atol=atol, err_msg=k)


@pytest.mark.parametrize("warmup, interval", [(False, 1), (True, 1), (True, 3), (False, 2)])
def test_equals_the_reference_over_training(warmup, interval):
    net = small_net()
    ema, ref = ModelEMA(net, 0.9, warmup, interval), ReferenceEMA(net, 0.9, warmup, interval)
    start = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    for _ in train_steps(net, 7):
        ema.update(net)
        ref.update(net)
        assert_same_weights(ema, ref)
    assert ema.steps == 7 and ema.updates == 7 // interval
    # the statistics and the parameters moved, and the EMA followed them (not stuck at the start)
    for k in ("1._mean", "1._variance", "0.weight", "4.bias"):
        assert not np.allclose(net.state_dict()[k].numpy(), start[k]), k
        assert not np.allclose(ema.weights()[k].numpy(), start[k]), k


def test_interval_k_is_one_update_with_decay_to_the_k():
    net = small_net()
    ema = ModelEMA(net, 0.8, warmup=False, interval=3)
    before = {k: v.numpy().copy() for k, v in ema.weights().items()}
    steps = train_steps(net, 3)
    next(steps), ema.update(net), next(steps), ema.update(net)
    for k, v in ema.weights().items():      # steps 1 and 2: nothing moves
        np.testing.assert_array_equal(v.numpy(), before[k])
    next(steps), ema.update(net)
    for k, v in net.state_dict().items():
        np.testing.assert_allclose(ema.weights()[k].numpy(), 0.8 ** 3 * before[k] + (1 - 0.8 ** 3) * v.numpy(),
                                   rtol=1e-6, atol=1e-7)


def test_no_state_dict_per_step():
    net = small_net()
    ema = ModelEMA(net, 0.9)
    steps = train_steps(net, 3)
    next(steps)
    ema.update(net)                          # finds the model's tensors once

    def refuse():
        raise AssertionError("state_dict() called by a later update")
    net.state_dict = refuse
    for _ in steps:
        ema.update(net)
    assert ema.updates == 3


def test_a_low_precision_model_is_averaged_in_fp32():
    net = small_net()
    ema, ref = ModelEMA(net, 0.9, warmup=False), ReferenceEMA(net, 0.9, warmup=False)
    for _ in train_steps(net, 2):
        ema.update(net)
        ref.update(net)
    for layer in (net[0], net[4]):   # what AMP O2 does on a GPU (paddle.amp.decorate), BN kept in fp32
        layer.to(dtype="float16")
    assert net[0].weight.dtype == paddle.float16 and net.state_dict()["1._mean"].dtype == paddle.float32
    with paddle.no_grad():
        for p in net.parameters():
            p.set_value(p + 1)
    ema.update(net)
    ref.update(net)
    assert_same_weights(ema, ref)            # the new fp16 values, cast: the EMA keeps fp32
    with ema.swapped_in(net):
        assert net[0].weight.dtype == paddle.float16
        np.testing.assert_allclose(net[0].weight.numpy(), ema.weights()["0.weight"].numpy(), atol=1e-3)


def test_swap_in_and_restore():
    net = small_net()
    ema = ModelEMA(net, 0.9999, warmup=True)
    assert ema.current_decay() == (1 + 0) / (10 + 0)
    ema.steps = 10 ** 7
    assert ema.current_decay() == 0.9999
    raw = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    shifted = {k: v + 1.0 for k, v in ema.weights().items()}
    ema.set_state_dict(shifted)
    with ema.swapped_in(net):
        for k, v in net.state_dict().items():
            np.testing.assert_allclose(v.numpy(), raw[k] + 1.0, rtol=1e-6)
    for k, v in net.state_dict().items():   # restored afterwards
        np.testing.assert_array_equal(v.numpy(), raw[k])


def test_state_round_trips_through_a_file_and_continues_identically(tmp_path):
    net = small_net()
    ema = ModelEMA(net, 0.9, interval=2)
    steps = train_steps(net, 5)
    for _ in range(3):
        next(steps)
        ema.update(net)
    paddle.save(ema.state_dict(), str(tmp_path / "ema.pdparams"))
    other = ModelEMA(small_net(), 0.9, interval=2)
    other.set_state_dict(paddle.load(str(tmp_path / "ema.pdparams")))
    assert (other.steps, other.updates) == (3, 1)
    for _ in steps:                          # steps 4 and 5: the phase of the interval was kept
        ema.update(net)
        other.update(net)
    for k, v in ema.weights().items():
        np.testing.assert_array_equal(other.weights()[k].numpy(), v.numpy(), err_msg=k)
    assert all(isinstance(v, paddle.Tensor) for k, v in ema.state_dict().items() if not k.startswith("__"))


def test_a_foreign_state_is_refused():
    ema = ModelEMA(small_net(), 0.9)
    state = ema.state_dict()
    with pytest.raises(KeyError, match="lacks"):
        ema.set_state_dict({k: v for k, v in state.items() if k != "1._mean"})
    with pytest.raises(ValueError, match="shape"):
        ema.set_state_dict({**state, "4.weight": paddle.zeros([3, 3])})
    with pytest.raises(ValueError, match="interval"):
        ModelEMA(small_net(), 0.9, interval=0)
