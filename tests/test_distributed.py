"""Data parallel on CPU (gloo, paddle.distributed.launch): the recipe rule, one writer, errors said once."""
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from paddle_tricks.engine import run_files
from paddle_tricks.engine.checkpoint import Checkpointer
from paddle_tricks.engine.data_parallel import parallel_recipe
from paddle_tricks.errors import ConfigError, DataError
from paddle_tricks.utils.console import VERBOSE_SWITCH, user_errors

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
LR = {"name": "Constant", "base_lr": 0.01, "warmup_start_lr": 0.001, "eta_min": 0.0}


def test_the_rule_global_batch_or_linearly_scaled_lr():
    one = parallel_recipe({"batch_size": 32, "batch_size_is": "global"}, LR, 1)
    assert (one.batch_size, one.lr) == (32, LR)
    split = parallel_recipe({"batch_size": 32, "batch_size_is": "global"}, LR, 4)
    assert (split.batch_size, split.global_batch, split.lr) == (8, 32, LR)
    assert "global batch 32 = 4 x 8 per process" in split.rule
    scaled = parallel_recipe({"batch_size": 32, "batch_size_is": "per_process"}, LR, 4)
    assert (scaled.batch_size, scaled.global_batch) == (32, 128)
    assert scaled.lr == {**LR, "base_lr": 0.04, "warmup_start_lr": 0.004, "eta_min": 0.0}
    assert LR["base_lr"] == 0.01                                        # the config is not modified
    with pytest.raises(ConfigError, match="must divide among 3 processes"):
        parallel_recipe({"batch_size": 32, "batch_size_is": "global"}, LR, 3)


def test_a_config_error_is_said_by_rank_0_only(monkeypatch, capsys):
    def fails(error):
        return user_errors(lambda: (_ for _ in ()).throw(error))
    for rank, said in (("0", True), ("1", False)):
        monkeypatch.setenv("PADDLE_TRAINER_ID", rank)
        assert fails(ConfigError("Data.batch_size must be ..."))() == 2
        assert ("error: Data.batch_size" in capsys.readouterr().err) is said
        assert fails(DataError("image 7 of this rank is unreadable"))() == 2  # may differ by rank: always said
        assert "error: image 7" in capsys.readouterr().err


def launch(tmp_path, name, raw=False, **sections):
    """Train a tiny config on 2 processes: ``paddle-tricks train --nproc 2`` (or, ``raw``, Paddle's launcher
    running tools/train.py, as on a GPU machine with ``--gpus``)."""
    out = tmp_path / name
    cfg = {"Global": {"output_dir": str(out), "epochs": 2, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 8,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "Constant", "base_lr": 0.01}}
    for sec, val in sections.items():
        cfg[sec].update(val)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {k: v for k, v in os.environ.items() if k != VERBOSE_SWITCH}     # the console as a user sees it
    env["PYTHONWARNINGS"] = "ignore"
    command = ([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                "--log_dir", str(out / "launch_log"), str(ROOT / "tools" / "train.py")] if raw else
               [sys.executable, str(ROOT / "tools" / "train.py"), "--nproc", "2"])
    proc = subprocess.run(command + ["-c", str(path)], capture_output=True, text=True, env=env, timeout=300)
    logs = {p.name: p.read_text() for p in (out / "launch_log").glob("workerlog.*")}
    return proc, logs, out


def steps_done(out) -> int:
    """Optimizer steps so far: the LR scheduler's counter saved in the checkpoint."""
    return int(Checkpointer.read(str(out / run_files.CHECKPOINT))["optimizer"]["LR_Scheduler"]["last_epoch"])


def test_two_processes_keep_the_global_batch_and_only_rank_0_writes(tmp_path):
    proc, logs, out = launch(tmp_path, "global")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + str({k: v[-1500:] for k, v in logs.items()})
    assert set(logs) == {"workerlog.0", "workerlog.1"}
    assert "final eval top-1" in logs["workerlog.0"] and "final eval top-1" not in logs["workerlog.1"]
    assert "global batch 8 = 2 x 4 per process" in logs["workerlog.0"] and "per process" not in logs["workerlog.1"]
    # the console: rank 0's own lines as from one process; the launcher's dump and Paddle's flag banner stay in
    # launch_log/
    assert "global batch 8 = 2 x 4 per process" in proc.stdout and "final eval top-1" in proc.stdout
    assert proc.stderr == ""
    for noise in ("LAUNCH", "Modified FLAGS", "Warning"):
        assert noise not in proc.stdout
    assert "LAUNCH INFO" in (out / "launch_log" / "launcher.log").read_text()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2                                     # one writer: no duplicated records
    assert len(list((out / "vdl").iterdir())) == 1             # one VisualDL log
    assert not (out / run_files.LOCK).exists()
    # 32 training images, a global batch of 8: 4 steps per epoch as in one process (each rank: 4 x 4 images)
    assert steps_done(out) == 2 * 4


def test_two_processes_per_process_batch_scale_the_lr(tmp_path):
    proc, logs, out = launch(tmp_path, "per_process", Data={"batch_size_is": "per_process"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + str({k: v[-1500:] for k, v in logs.items()})
    assert "learning rate x2 (0.01 -> 0.02" in logs["workerlog.0"]
    records = [yaml.safe_load(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in records] == [pytest.approx(0.02)] * 2
    assert steps_done(out) == 2 * 2                            # global batch 16: 2 steps per epoch


def test_a_config_error_under_the_launcher_is_printed_once(tmp_path):
    proc, logs, _ = launch(tmp_path, "bad", raw=True, Data={"batch_size": 7})
    assert proc.returncode != 0
    said = [ln for log in logs.values() for ln in log.splitlines() if ln.startswith("error:")]
    assert len(said) == 1 and "must divide among 2 processes" in said[0], logs


def test_nproc_says_a_config_error_once_on_stderr_with_exit_2(tmp_path):
    proc, _, _ = launch(tmp_path, "bad", Data={"batch_size": 7})           # found by rank 0, after the launch
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: Data.batch_size=7")
    assert "error" not in proc.stdout and "Traceback" not in proc.stdout
    proc, _, out = launch(tmp_path, "early", LR={"name": "NoSuchSchedule"})  # found before any process starts
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1
    assert not out.exists()


def test_sigterm_to_nproc_stops_the_launcher_and_every_process(tmp_path):
    # kill and job schedulers signal the command alone; before, the launcher and its processes trained on, orphaned
    import signal
    import time

    from helpers import processes_naming
    out = tmp_path / "stopped"
    cfg = {"Global": {"output_dir": str(out), "epochs": 300, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 8,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "Constant", "base_lr": 0.01}}
    path = tmp_path / "stopped.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {k: v for k, v in os.environ.items() if k != VERBOSE_SWITCH}
    env["PYTHONWARNINGS"] = "ignore"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "train.py"), "--nproc", "2", "-c", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    metrics = out / "metrics.jsonl"
    try:
        deadline = time.time() + 180
        while not (metrics.is_file() and metrics.read_text().count("\n") >= 1):
            assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(90) == 128 + signal.SIGTERM
        assert proc.stderr.read().splitlines()[-1] == ("stopped by SIGTERM; the last finished epoch is saved: "
                                                       "rerun with --resume to continue")
        deadline = time.time() + 10
        while processes_naming(str(out)) and time.time() < deadline:
            time.sleep(0.2)
        assert processes_naming(str(out)) == []
    finally:  # a failure leaves no training behind
        for pid in processes_naming(str(out)):
            os.kill(pid, signal.SIGKILL)
