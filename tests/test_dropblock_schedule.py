"""The trainer ramps DropBlock's keep probability linearly from 1.0 to its configured value."""
import pytest

from test_trainer import tiny_cfg
from paddle_tricks.engine.callbacks import DropBlockSchedule
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.layers import DropBlock


def test_schedule_values_and_resume_position():
    a, b = DropBlock(3, keep_prob=0.9), DropBlock(3, keep_prob=0.8)
    sched = DropBlockSchedule([a, b], start_epoch=0, steps_per_epoch=10, total_epochs=4)
    sched.on_epoch_begin(0)
    sched.on_train_batch_begin(0)
    assert (a.keep_prob, b.keep_prob) == (1.0, 1.0)
    sched.on_epoch_begin(2)
    sched.on_train_batch_begin(0)                    # global step 20 of 40: halfway
    assert a.keep_prob == pytest.approx(0.95) and b.keep_prob == pytest.approx(0.9)
    resumed = DropBlockSchedule([DropBlock(3, 0.9)], start_epoch=2, steps_per_epoch=10, total_epochs=4)
    resumed.on_epoch_begin(0)                        # epoch 0 of the resumed fit = run epoch 2
    resumed.on_train_batch_begin(0)
    assert resumed.targets[0][0].keep_prob == pytest.approx(0.95)


def test_trainer_installs_it(tmp_path):
    cfg = tiny_cfg(tmp_path, Global={"epochs": 2}, EMA={"enable": False},
                   Arch={"tricks": {"drop_block": {"block_size": 3, "keep_prob": 0.8, "stages": "last2"},
                                    "input_size": 32}})
    t = Trainer(cfg, log=lambda *_: None)
    blocks = [m for m in t.network.sublayers() if isinstance(m, DropBlock)]
    assert blocks
    t.fit()
    # after the last step of the last epoch the ramp is almost at its end (step total-1 of total)
    assert all(0.8 <= m.keep_prob < 0.9 for m in blocks)
