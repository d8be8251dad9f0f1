"""Hostile use of run folders (issue 11.1, 11.2, 11.5): a finished run is never modified unless asked, a
resume is exact or refused, a folder holds one run at a time, and a killed trainer leaves no worker behind."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from hostile_kit import (ROOT, assert_refused, assert_unchanged, copy_run, run_tool, snapshot,
                         write_config)



@pytest.mark.parametrize("override", [None, "LR.base_lr=0.5", "Global.epochs=3"])
def test_training_again_over_a_finished_run_is_refused(finished_run, tmp_path, capfd, override):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    before = snapshot(copy)
    args = ["-c", cfg, "-o", f"Global.output_dir={copy}"] + (["-o", override] if override else [])
    line = assert_refused(run_tool(capfd, "train", *args), "--resume", "Global.output_dir")
    assert str(copy) in line
    assert_unchanged(before, copy)


@pytest.mark.parametrize("override, key", [
    ("Optimizer.name=AdamW", "Optimizer.name"),
    ("Data.batch_size=8", "Data.batch_size"),
    ("Arch.options.width_mult=0.5", "Arch.options"),
    ("Global.seed=4", "Global.seed"),
    ("LR.base_lr=0.5", "LR.base_lr"),
])
def test_resume_with_a_result_changing_override_is_refused(finished_run, tmp_path, capfd, override, key):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    before = snapshot(copy)
    out = run_tool(capfd, "train", "-c", cfg, "-o", f"Global.output_dir={copy}", "-o", "Global.epochs=3",
                   "-o", override, "--resume")                        # more epochs alone would be allowed
    assert_refused(out, key)
    assert_unchanged(before, copy)


def test_resume_in_a_folder_without_checkpoint_says_so(finished_run, tmp_path, capfd):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    for d, _, files in os.walk(os.path.join(copy, "checkpoints")):
        for f in files:
            os.remove(os.path.join(d, f))
    before = snapshot(copy)
    assert_refused(run_tool(capfd, "train", "-c", cfg, "-o", f"Global.output_dir={copy}", "--resume"),
                   "checkpoint")
    assert_unchanged(before, copy)


def test_resume_in_an_empty_folder_says_so(tmp_path, capfd):
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "never_trained")
    assert_refused(run_tool(capfd, "train", "-c", cfg, "--resume"), "checkpoint")
    assert not os.path.exists(tmp_path / "never_trained" / "metrics.jsonl")


def test_stale_temp_cleanup_keeps_the_users_own_files(tmp_path, capfd):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    mine = {".notes.tmp12345": b"my notes", ".draft.tmp1": b"draft"}
    for name, data in mine.items():
        (out_dir / name).write_bytes(data)
    cfg = write_config(tmp_path / "cfg.yaml", out_dir, Global={"epochs": 1})
    got = run_tool(capfd, "train", "-c", cfg)
    assert got.code in (0, 2) and "Traceback" not in got.err          # refusing a non-empty folder is fine too
    for name, data in mine.items():
        assert (out_dir / name).read_bytes() == data, name


# ------------------------------------------------------------------------- a live training in another process
@pytest.fixture(scope="module")
def live_training(tmp_path_factory):
    """A long training with 2 DataLoader workers in its own process, once it has finished epoch 1."""
    base = tmp_path_factory.mktemp("live")
    cfg = write_config(base / "cfg.yaml", base / "run", Global={"epochs": 500},
                       Data={"num_workers": 2})
    log = open(base / "log.txt", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "train.py"), "-c", cfg], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.time() + 120
    while not os.path.isfile(base / "run" / "metrics.jsonl"):
        assert proc.poll() is None and time.time() < deadline, open(base / "log.txt").read()[-2000:]
        time.sleep(0.5)
    yield proc, cfg, str(base / "run")
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    log.close()


def test_a_second_training_in_a_busy_folder_names_the_holder(live_training, capfd):
    proc, cfg, run = live_training
    line = assert_refused(run_tool(capfd, "train", "-c", cfg, "-o", "Global.epochs=1"))
    assert str(proc.pid) in line
    assert proc.poll() is None                                         # the first run goes on


def test_workers_exit_when_the_trainer_is_killed(live_training):
    proc, _, _ = live_training
    deadline = time.time() + 60
    workers = []
    while len(workers) < 2:                                            # workers live while an epoch is read
        assert time.time() < deadline and proc.poll() is None
        workers = psutil.Process(proc.pid).children()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive, f"{len(alive)} DataLoader worker(s) outlived the killed trainer"
