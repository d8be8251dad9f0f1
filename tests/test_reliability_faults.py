"""Numerical faults and checkpoint faults: divergence stops with one line naming the step and keeps the last
good checkpoint; AMP's skipped steps are counted; a full disk fails the save cleanly; a checkpoint of another
architecture or class count names the mismatched parameters; missing and damaged files are named."""
import errno
import inspect
import json
import os
import re

import numpy as np
import paddle
import pytest
import yaml
from paddle.callbacks import Callback

from paddle_tricks.cli import eval_main, train_main
from paddle_tricks.config import validate
from paddle_tricks.engine import checkpoint as ckpt_mod
from paddle_tricks.engine.callbacks import AMPSkipCounter, LossGuard, TrainingDiverged, VisualDLLogger
from paddle_tricks.engine.checkpoint import load_file, temp_files
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.errors import CheckpointError

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def cfg_dict(out, **sections):
    cfg = {"Global": {"output_dir": str(out), "epochs": 2, "seed": 3, "verbose": 0, "log_freq": 1},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 16,
                    "options": {"num_per_class": 4, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "Constant", "base_lr": 0.05}}
    for sec, val in sections.items():
        cfg.setdefault(sec, {}).update(val)
    return cfg


def write_cfg(tmp_path, **sections) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg_dict(tmp_path / "run", **sections)))
    return str(path)


def one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def latest(out) -> dict:
    return load_file(str(out / "checkpoints" / "latest.safetensors"))


def all_finite(state: dict) -> bool:
    return all(np.isfinite(np.asarray(v)).all() for v in state.values() if np.asarray(v).dtype.kind == "f")


# ---------------------------------------------------------------------------------------- numerical faults
def test_divergence_after_a_good_epoch_stops_at_the_step_and_keeps_the_good_checkpoint(tmp_path, capsys):
    # epoch 1 trains at 0.05; from epoch 2 the LR is 5e10, which blows the weights up within two steps
    cfg = write_cfg(tmp_path, Global={"epochs": 3},
                    LR={"name": "Piecewise", "base_lr": 0.05, "milestones": [1], "gamma": 1e12})
    code = train_main(["-c", cfg])
    err = one_error(capsys.readouterr().err)
    assert code == 2
    assert "became NaN/Inf" in err and "by epoch 2, step 2 (global step 6) with learning rate 5e+10" in err
    assert "the last good checkpoint (epoch 1) is kept" in err
    assert "Likely cause: the learning rate is too high" in err and "AMP" not in err
    out = tmp_path / "run"
    state = latest(out)
    assert state["epoch"] == 1 and all_finite(state["model"])
    assert [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1]
    assert temp_files(str(out / "checkpoints")) == []
    assert all_finite(load_file(str(out / "best.safetensors")))


def test_nan_weights_at_the_end_of_an_epoch_are_never_saved(tmp_path):
    """A blow-up at the very last step escapes the per-step check of an earlier step: the trainer checks
    every weight and BN statistic before writing the checkpoint."""
    class CorruptEpoch2(Callback):              # runs after the last step, before the end-of-epoch save
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                bn = t.network.state_dict()["last_conv.bn._variance"]
                bn.set_value(paddle.full_like(bn, float("inf")))
    t = Trainer(validate(cfg_dict(tmp_path / "run", Global={"log_freq": 100})), log=lambda *_: None,
                callbacks=[CorruptEpoch2()])
    with pytest.raises(TrainingDiverged, match=r"weights became NaN/Inf during epoch 2 \(last_conv\.bn\._variance\)"
                                               r"; the last good checkpoint \(epoch 1\) is kept"):
        t.fit()
    assert latest(tmp_path / "run")["epoch"] == 1 and all_finite(latest(tmp_path / "run")["model"])


class _Optimizer:
    def get_lr(self):
        return 0.4


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_loss_names_epoch_step_lr_and_the_causes(value):
    guard = LossGuard(start_epoch=4, amp=False, kept=lambda: "KEPT", steps_per_epoch=10, optimizer=_Optimizer())
    guard.on_epoch_begin(0)
    guard.on_train_batch_end(0, {"loss": [2.3]})                  # finite: nothing happens
    with pytest.raises(TrainingDiverged) as info:
        guard.on_train_batch_end(6, {"loss": [value]})
    msg = str(info.value)
    assert msg.startswith(f"the training loss became {value} at epoch 5, step 7 (global step 47) with "
                          f"learning rate 0.4; KEPT. Likely cause: the learning rate is too high")
    assert "AMP" not in msg
    amp = LossGuard(0, amp=True)
    with pytest.raises(TrainingDiverged, match="AMP.level=O1"):
        amp.on_train_batch_end(0, {"loss": value})


class FakeScaler:
    """Stands in for paddle.amp.GradScaler on the CPU: steps 2, 3 and 7 'found inf' and halve the scale."""

    def __init__(self):
        self.reads, self.scale = 0, 1024.0
        self.loaded = None

    @property
    def _cache_found_inf(self):
        self.reads += 1
        found = self.reads in (2, 3, 7)
        if found:
            self.scale /= 2
        return paddle.to_tensor(found)

    def state_dict(self):
        return {"scale": np.array([self.scale], np.float32), "incr_count": 0}

    def load_state_dict(self, state):
        self.loaded = state


def test_amp_skipped_steps_are_counted_in_metrics_and_visualdl(tmp_path):
    # the counter reads the flag Paddle's GradScaler.minimize sets
    assert "self._cache_found_inf" in inspect.getsource(paddle.amp.AmpScaler.minimize)   # GradScaler's base
    out = tmp_path / "run"
    t = Trainer(validate(cfg_dict(out)), log=lambda *_: None)
    assert t.steps_per_epoch == 4
    t.model._scaler = FakeScaler()                 # CPU: no real AMP; the wiring is what is tested
    t.fit()
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["amp_skipped_steps"] for r in records] == [2, 1]
    assert [r["amp_loss_scale"] for r in records] == [256.0, 128.0]
    from visualdl import LogReader
    logfile = [f for f in os.listdir(out / "vdl") if f.startswith("vdlrecords")][0]
    reader = LogReader(file_path=str(out / "vdl" / logfile))
    assert [(d.id, d.value) for d in reader.get_data("scalar", "amp/skipped_steps")] == [(1, 2.0), (2, 1.0)]
    assert [(d.id, d.value) for d in reader.get_data("scalar", "amp/loss_scale")] == [(1, 256.0), (2, 128.0)]
    # the loss-scale state goes into the checkpoint and comes back on resume
    assert float(latest(out)["scaler"]["scale"][0]) == 128.0
    again = Trainer(validate(cfg_dict(out, Global={"epochs": 3})), log=lambda *_: None)
    again.model._scaler = FakeScaler()
    again.load_checkpoint(str(out / "checkpoints" / "latest.safetensors"))
    assert float(again.model._scaler.loaded["scale"][0]) == 128.0


def test_amp_counter_without_a_flag_counts_nothing():
    counter = AMPSkipCounter(object())
    counter.on_epoch_begin(0)
    counter.on_train_batch_end(0)
    assert counter.epoch_skipped == counter.total_skipped == 0 and counter.loss_scale() is None


# ---------------------------------------------------------------------------------------- checkpoints
def test_full_disk_fails_the_save_cleanly_and_keeps_the_previous_checkpoint(tmp_path, capsys, monkeypatch):
    cfg = write_cfg(tmp_path)
    out = tmp_path / "run"
    real_save = ckpt_mod.write_state
    calls = {"ckpt": 0}

    def save_then_disk_full(obj, path, *a, **k):
        if "latest.safetensors" in os.path.basename(path):
            calls["ckpt"] += 1
            if calls["ckpt"] == 2:                      # the checkpoint of epoch 2: half written, then ENOSPC
                with open(path, "wb") as f:
                    f.write(b"\x80\x04partial")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, path, *a, **k)
    monkeypatch.setattr(ckpt_mod, "write_state", save_then_disk_full)
    code = train_main(["-c", cfg])
    err = one_error(capsys.readouterr().err)
    assert code == 2
    assert f"could not write {out / 'checkpoints' / 'latest.safetensors'} (No space left on device)" in err
    assert "the previous file is kept" in err and "free disk space" in err and "--resume" in err
    state = latest(out)                                  # still the complete checkpoint of epoch 1
    assert state["epoch"] == 1 and len(state["history"]) == 1
    assert temp_files(str(out / "checkpoints")) == []    # the half-written temporary file is gone
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1
    # space is back: the run resumes from epoch 1 and finishes
    monkeypatch.setattr(ckpt_mod, "write_state", real_save)
    assert train_main(["-c", cfg, "--resume"]) == 0
    assert "resumed from" in capsys.readouterr().out
    assert latest(out)["epoch"] == 2


def test_visualdl_write_errors_warn_once_and_training_goes_on():
    class FullDisk:
        calls = 0

        def add_scalar(self, *a):
            FullDisk.calls += 1
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")
    warnings = []
    logger = VisualDLLogger("unused", 0, 4, log_freq=1, writer=FullDisk(), warn=warnings.append)
    logger.log_epoch({"epoch": 1, "eval_top1": 0.5})
    logger.log_epoch({"epoch": 2, "eval_top1": 0.6})
    logger.on_train_end()
    assert warnings == ["VisualDL logging stopped: No space left on device; training continues without it"]
    assert FullDisk.calls == 1


def test_atomic_save_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    ckpt_mod.atomic_save({"a": np.ones(3, np.float32)}, str(path))

    def broken(obj, p, *a, **k):
        with open(p, "wb") as f:
            f.write(b"half")
        raise OSError(errno.EDQUOT, "Disk quota exceeded")
    monkeypatch.setattr(ckpt_mod, "write_state", broken)
    with pytest.raises(CheckpointError, match=r"could not write .*w\.safetensors \(Disk quota exceeded\); the previous "
                                              r"file is kept"):
        ckpt_mod.atomic_save({"a": np.zeros(3, np.float32)}, str(path))
    assert os.listdir(tmp_path) == ["w.safetensors"]
    np.testing.assert_array_equal(load_file(str(path))["a"], np.ones(3))
    # a stale temporary file of a dead process is removed; one of a live process is not
    dead = tmp_path / ".w.safetensors.tmp999999999"
    live = tmp_path / f".w.safetensors.tmp{os.getpid()}"
    users = tmp_path / ".notes.txt.tmp999999999"          # not one of the suite's files: never touched
    for path in (dead, live, users):
        path.write_bytes(b"x")
    assert ckpt_mod.remove_stale_temps(str(tmp_path), ["w.safetensors"]) == [str(dead)]
    assert live.exists() and users.exists() and not dead.exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished 1-epoch run, shared by the checkpoint-mismatch tests."""
    tmp = tmp_path_factory.mktemp("trained")
    cfg = write_cfg(tmp, Global={"epochs": 1})
    assert train_main(["-c", cfg]) == 0
    return tmp, cfg


def test_another_architecture_or_class_count_names_the_parameters(trained, capsys):
    tmp, cfg = trained
    capsys.readouterr()
    # a wider net: every mismatched parameter is counted, the first ones named with both shapes
    assert eval_main(["-c", cfg, "-o", "Arch.options={width_mult: 0.5}"]) == 2
    err = one_error(capsys.readouterr().err)
    assert "does not fit the model" in err
    assert re.search(r"\(\d+ shape mismatch\(es\): [\w.]+ \[[\d, ]+\] vs model \[[\d, ]+\]", err), err
    assert "Was it saved for another architecture or class count?" in err
    # evaluate with another class count: the classifier is named with both shapes
    assert eval_main(["-c", cfg, "-o", "Arch.num_classes=10"]) == 2
    err = one_error(capsys.readouterr().err)
    assert "2 shape mismatch(es): fc.weight [" in err and "fc.bias [16] vs model [10]" in err
    # another architecture altogether: missing and unexpected names
    assert eval_main(["-c", cfg, "-o", "Arch.name=mobilenet_v2", "-o", "Arch.options={}"]) == 2
    err = one_error(capsys.readouterr().err)
    assert re.search(r"\(260 missing: features\.0\.conv\.weight, .*; 207 unexpected: stem\.conv\.weight, ", err), err


def test_missing_and_damaged_checkpoints_say_where_they_looked(trained, tmp_path, capsys):
    tmp, cfg = trained
    capsys.readouterr()
    nowhere = tmp_path / "never_trained"
    assert eval_main(["-c", cfg, "-o", f"Global.output_dir={nowhere}"]) == 2
    assert f"no trained weights in {nowhere} (looked for best.safetensors)" in one_error(capsys.readouterr().err)
    assert eval_main(["-c", cfg, "--weights", str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder; give a weights file" in one_error(capsys.readouterr().err)
    damaged = tmp_path / "damaged.safetensors"
    good = (tmp / "run" / "best.safetensors").read_bytes()
    damaged.write_bytes(good[: len(good) // 2])
    assert eval_main(["-c", cfg, "--weights", str(damaged)]) == 2
    assert f"could not read checkpoint {damaged} (damaged, or not a weights file)" in one_error(capsys.readouterr().err)
    assert train_main(["-c", cfg, "-o", "Global.epochs=2", "--resume", str(damaged)]) == 2
    assert "could not read checkpoint" in one_error(capsys.readouterr().err)
    assert eval_main(["-c", cfg]) == 0                   # the run's own weights are fine
