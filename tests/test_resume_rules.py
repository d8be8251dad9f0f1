"""Resume is exact or refused (issue 11.2): the saved config is used; -o may change only what cannot alter the
result; Global.epochs may grow with a notice; no checkpoint, or a crafted one, is one error line."""
import os
import pickle
import shutil

import pytest
import yaml

from test_reliability_faults import cfg_dict, latest, one_error
from test_run_folder import snapshot
from paddle_tricks.cli import train_main
from paddle_tricks.engine import run_files
from paddle_tricks.engine.state_file import read_state, write_state


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 1-epoch run (first -o Global.epochs=1 over a 4-epoch config file) and its config file."""
    tmp = tmp_path_factory.mktemp("finished")
    cfg = tmp / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(cfg_dict(tmp / "run", Global={"epochs": 4})))
    assert train_main(["-c", str(cfg), "-o", "Global.epochs=1"]) == 0
    return tmp, str(cfg)


def copy_of(finished, tmp_path):
    tmp, cfg = finished
    shutil.copytree(tmp / "run", tmp_path / "run")
    return str(tmp_path / "run"), cfg


def test_overrides_that_change_the_result_are_refused_with_the_keys(finished, tmp_path, capsys):
    run, cfg = copy_of(finished, tmp_path)
    before = snapshot(tmp_path / "run")
    capsys.readouterr()
    for overrides, keys in ((["LR.base_lr=0.07", "Optimizer.name=AdamW"], ["LR.base_lr: 0.05 -> 0.07",
                                                                             "Optimizer.name: 'Momentum' -> 'AdamW'"]),
                            (["Data.batch_size=8"], ["Data.batch_size: 16 -> 8"]),
                            (["Global.epochs=2", "Global.seed=4"], ["Global.seed: 3 -> 4"])):
        args = ["-c", cfg, "-o", f"Global.output_dir={run}", "--resume"]
        assert train_main(args + [a for o in overrides for a in ("-o", o)]) == 2
        err = one_error(capsys.readouterr().err)
        assert f"{len(keys)} override(s) would change its result: " in err
        assert all(k in err for k in keys), err
        assert "Global.epochs may grow" in err and "Data.num_workers" in err
    assert snapshot(tmp_path / "run") == before


def test_the_saved_config_is_used_and_epochs_may_grow_with_a_notice(finished, tmp_path, capsys):
    run, cfg = copy_of(finished, tmp_path)
    capsys.readouterr()
    # the config file says 4 epochs and lr 0.05; the run was made with -o Global.epochs=1: without -o the run
    # is finished (its saved 1 epoch), it does not train on to the file's 4
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={run}", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "already finished (1/1 epochs)" in out
    assert "note: the config given differs from the run's saved config in 1 key(s) (Global.epochs)" in out
    # growing the run, with neutral overrides: a notice on the LR schedule, and the saved config otherwise
    args = ["-c", cfg, "-o", f"Global.output_dir={run}", "--resume", "-o", "Global.epochs=2",
            "-o", "Global.log_freq=3", "-o", "Data.num_workers=0", "-o", "VisualDL.enable=false"]
    assert train_main(args) == 0
    out = capsys.readouterr().out
    assert ("note: Global.epochs 1 -> 2: the LR schedule (Constant) is re-planned over 2 epochs and continues "
            "from the step where epoch 1 ended") in out
    assert "resumed from" in out and "after epoch 1" in out
    assert "note: the learning rate continues at 0.05 on the 2-epoch schedule (the 1-epoch one had 0.05)" in out
    saved = latest(tmp_path / "run")
    assert saved["epoch"] == 2 and saved["config"]["Global"]["epochs"] == 2
    assert saved["config"]["Global"]["log_freq"] == 3 and saved["config"]["VisualDL"]["enable"] is False
    assert yaml.safe_load((tmp_path / "run" / run_files.CONFIG).read_text())["Global"]["epochs"] == 2
    # shrinking below what the run was planned for is a change of its result
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={run}", "--resume", "-o", "Global.epochs=1"]) == 2
    assert "Global.epochs: 2 -> 1" in one_error(capsys.readouterr().err)


def test_resume_without_a_checkpoint_says_so(tmp_path, capsys):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(cfg_dict(tmp_path / "empty")))
    assert train_main(["-c", str(cfg), "--resume"]) == 2
    err = one_error(capsys.readouterr().err)
    assert f"--resume: there is no checkpoint to resume in {tmp_path / 'empty'}" in err
    assert "leave out --resume" in err
    assert train_main(["-c", str(cfg), "--resume", str(tmp_path / "nowhere.safetensors")]) == 2
    assert f"--resume: no checkpoint at {tmp_path / 'nowhere.safetensors'}" in one_error(capsys.readouterr().err)


def crafted(ckpt: dict, change: str) -> dict:
    ckpt = dict(ckpt)
    if change == "no optimizer":
        del ckpt["optimizer"]
    elif change == "no epoch":
        del ckpt["epoch"]
    elif change == "negative epoch":
        ckpt["epoch"], ckpt["history"] = -1, []
    elif change == "epoch as text":
        ckpt["epoch"] = "1"
    elif change == "history ahead":
        ckpt["history"] = ckpt["history"] * 3
    elif change == "bad optimizer":
        ckpt["optimizer"] = {**ckpt["optimizer"], **{k: 7 for k in list(ckpt["optimizer"])[:1]}}
    return ckpt


@pytest.mark.parametrize("change, message", [
    ("no optimizer", "is not a complete training checkpoint: it has no 'optimizer' entry"),
    ("no epoch", "is not a complete training checkpoint: it has no 'epoch' entry"),
    ("negative epoch", "is not a consistent training checkpoint: epoch -1 with 0 history record(s)"),
    ("epoch as text", "is not a complete training checkpoint: it has a str as its 'epoch' entry"),
    ("history ahead", "is not a consistent training checkpoint: epoch 1 with 3 history record(s)"),
    ("bad optimizer", "::_velocity_0' is a int, not an array"),
])
def test_a_crafted_checkpoint_is_one_error_line(finished, tmp_path, capsys, change, message):
    tmp, cfg = finished
    ckpt = read_state(str(tmp / "run" / run_files.CHECKPOINT))
    path = tmp_path / "crafted.safetensors"
    write_state(crafted(ckpt, change), str(path))
    capsys.readouterr()
    args = ["-c", cfg, "-o", f"Global.output_dir={tmp_path / 'new'}", "-o", "Global.epochs=2", "--resume", str(path)]
    assert train_main(args) == 2
    err = one_error(capsys.readouterr().err)
    assert message in err and str(path) in err


class RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_legacy_checkpoint_that_runs_code_is_refused(finished, tmp_path, capsys):
    run, cfg = copy_of(finished, tmp_path)
    os.remove(os.path.join(run, run_files.CHECKPOINT))
    marker = tmp_path / "CODE_RAN"
    with open(os.path.join(run, run_files.LEGACY_CHECKPOINT), "wb") as f:
        pickle.dump({"model": {}, "epoch": RunsCode(marker)}, f)
    capsys.readouterr()
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={run}", "--resume"]) == 2
    err = one_error(capsys.readouterr().err)
    assert not marker.exists()
    assert f"refused to load {os.path.join(run, run_files.LEGACY_CHECKPOINT)}: it asks for posix.system" in err


def test_a_run_saved_before_a_config_key_existed_still_resumes(finished, tmp_path, capsys):
    """A key added to the schema later takes its default on resume; it is not a change of the run's result."""
    run, cfg = copy_of(finished, tmp_path)
    path = os.path.join(run, run_files.CHECKPOINT)
    ckpt = read_state(path)
    del ckpt["config"]["EMA"]["interval"], ckpt["config"]["Global"]["eval_interval"]    # as an older version saved it
    write_state(ckpt, path)
    capsys.readouterr()
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={run}", "--resume", "-o", "Global.epochs=2"]) == 0
    assert "after epoch 1" in capsys.readouterr().out
    assert latest(tmp_path / "run")["epoch"] == 2
    # a real difference is still refused
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={run}", "--resume", "-o", "EMA.interval=3"]) == 2
    assert "EMA.interval: 1 -> 3" in one_error(capsys.readouterr().err)
