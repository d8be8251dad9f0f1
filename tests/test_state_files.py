"""Weights and checkpoints hold no code (issue 11.3): safetensors + JSON written, pickles read only through an
allow-list; a checkpoint of the previous (pickle) version still resumes; the optimizer keys map by look-up."""
import os
import pickle

import numpy as np
import paddle
import pytest
from safetensors import safe_open

from test_trainer import tiny_cfg
from paddle_tricks.engine.checkpoint import (LEGACY_CHECKPOINT, load_file, load_weights,
                                             optimizer_state_from_portable, optimizer_state_to_portable)
from paddle_tricks.engine.state_file import read_state, write_state
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.errors import CheckpointError


class RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os')", {}))


def test_a_nested_state_round_trips_exactly_and_the_file_is_safetensors(tmp_path):
    state = {"model": {"w": paddle.to_tensor(np.random.rand(3, 4).astype("float32")), "n": np.int64(7)},
             "opt": {"LR_Scheduler": {"last_epoch": 16, "last_lr": 0.004951556604879043}},
             "history": [{"epoch": 1, "eval_top1": 1 / 3}], "ema": None, "flags": [True, "x"],
             "ints": np.arange(5, dtype=np.int32)}
    path = str(tmp_path / "s.safetensors")
    write_state(state, path)
    back = read_state(path)
    np.testing.assert_array_equal(back["model"]["w"], state["model"]["w"].numpy())
    assert back["model"]["n"] == 7 and back["model"]["n"].dtype == np.int64
    assert back["ints"].dtype == np.int32
    assert back["opt"] == state["opt"] and back["history"] == state["history"]      # floats bit-exact via JSON
    assert back["ema"] is None and back["flags"] == [True, "x"]
    with safe_open(path, framework="numpy") as f:                                # a plain safetensors file
        assert set(f.keys()) == {"model/w", "model/n", "ints"}
    with pytest.raises(TypeError, match="cannot store a RunsCode at 'bad'"):
        write_state({"bad": RunsCode("x")}, str(tmp_path / "t.safetensors"))


def test_weights_files_keep_parameter_names_and_pdparams_still_load(tmp_path):
    net = paddle.nn.Linear(3, 2)
    write_state(net.state_dict(), str(tmp_path / "w.safetensors"))
    with safe_open(str(tmp_path / "w.safetensors"), framework="numpy") as f:
        assert set(f.keys()) == {"weight", "bias"}          # readable by any safetensors tool
    paddle.save(net.state_dict(), str(tmp_path / "w.pdparams"))       # a paddle.vision / PaddleClas file
    with open(tmp_path / "p2.pdparams", "wb") as f:                   # protocol 2 (older Paddle): _codecs
        pickle.dump({k: v.numpy() for k, v in net.state_dict().items()}, f, protocol=2)
    with open(tmp_path / "list.pdparams", "wb") as f:
        pickle.dump([1.0, 2.0], f, protocol=2)
    with pytest.raises(CheckpointError, match=r"list\.pdparams holds a list, not weights \(a mapping"):
        load_weights(net, str(tmp_path / "list.pdparams"))
    for name in ("w.safetensors", "w.pdparams", "p2.pdparams"):
        other = paddle.nn.Linear(3, 2)
        load_weights(other, str(tmp_path / name))
        np.testing.assert_array_equal(other.weight.numpy(), net.weight.numpy(), err_msg=name)


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_that_runs_code_is_refused_naming_the_file(tmp_path, protocol):
    marker = tmp_path / "CODE_RAN"
    path = tmp_path / "evil.pdparams"
    with open(path, "wb") as f:
        pickle.dump({"weight": RunsCode(marker)}, f, protocol=protocol)
    with pytest.raises(CheckpointError) as info:
        load_weights(paddle.nn.Linear(3, 2), str(path))
    assert not marker.exists()
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"refused to load {path}: it asks for ")
    assert "system, which is not an array, tensor or plain container" in msg
    # eval() is answered by a look-up only (what paddle.save writes for a DenseTensor), never evaluated
    with open(path, "wb") as f:
        pickle.dump({"weight": CallsEval()}, f, protocol=protocol)
    with pytest.raises(CheckpointError, match=r"it calls eval\(\"__import__\('os'\)\"\), which is refused"):
        load_file(str(path))


def test_a_checkpoint_of_the_previous_version_resumes(tmp_path):
    """The pickle that the previous version wrote (paddle.save of the checkpoint dict) is read by the allow-list
    loader, from its old place, and the run continues from it."""
    lr = {"name": "Cosine", "warmup_epochs": 0}
    cfg = tiny_cfg(tmp_path / "old", Global={"epochs": 2}, LR=lr)
    first = Trainer(tiny_cfg(tmp_path / "new", Global={"epochs": 1}, LR=lr), log=lambda *_: None)
    first.fit()
    old = {"model": first.network.state_dict(),
           "optimizer": optimizer_state_to_portable(first.optimizer.state_dict(), first.network),
           "ema": first.ema.state_dict(), "scaler": None, "epoch": 1, "best": first.progress.best,
           "history": first.progress.history, "config": first.cfg}
    os.makedirs(tmp_path / "old" / "checkpoints")
    paddle.save(old, str(tmp_path / "old" / LEGACY_CHECKPOINT))
    msgs = []
    resumed = Trainer(cfg, log=msgs.append)
    resumed.fit(resume="auto")
    assert f"resumed from {tmp_path / 'old' / LEGACY_CHECKPOINT} after epoch 1" in msgs
    assert [r["epoch"] for r in resumed.progress.history] == [1, 2]
    assert resumed.progress.history[0] == first.progress.history[0]


def test_optimizer_keys_by_lookup_match_the_longest_prefix_rule():
    paddle.seed(1)
    net = paddle.nn.Sequential(*[paddle.nn.Linear(4, 4) for _ in range(12)])   # linear_1.w_0 and linear_11.w_0
    opt = paddle.optimizer.Adam(parameters=net.parameters())
    net(paddle.rand([2, 4])).mean().backward()
    opt.step()
    state = opt.state_dict()
    names = {p.name: s for s, p in net.named_parameters()}
    expected = {}
    for key, value in state.items():       # the rule spelled out: the longest parameter name the key starts with
        match = max((n for n in names if key.startswith(n + "_")), key=len, default=None)
        expected[f"param::{names[match]}::{key[len(match):]}" if match else key] = value
    portable = optimizer_state_to_portable(state, net)
    assert portable.keys() == expected.keys()
    assert any(k.startswith("param::11.weight::") for k in portable)     # linear_11 not mistaken for linear_1
    assert optimizer_state_from_portable(portable, net).keys() == state.keys()
