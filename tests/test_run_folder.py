"""A run folder belongs to one run (issue 11.1): a running training holds it against a second process; a new
run is refused in a folder holding another run's results, unless --backup moves them aside; nothing of a
finished run changes when a command is refused."""
import os
import pathlib
import signal
import socket
import subprocess
import sys

import yaml

from test_reliability_faults import cfg_dict, one_error
from test_reliability_resume import Run
from paddle_tricks.cli import train_main
from paddle_tricks.engine import run_files
from paddle_tricks.engine.run_lock import RunFolderBusy, RunLock

ROOT = pathlib.Path(__file__).resolve().parents[1]


def snapshot(folder: pathlib.Path, skip: tuple = ()) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] not in skip}


def write_cfg(tmp_path, out, **sections) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg_dict(out, **sections)))
    return str(path)


def test_a_second_process_is_refused_naming_the_holder_and_a_kill_frees_the_folder(tmp_path):
    out = tmp_path / "run"
    cfg = write_cfg(tmp_path, out)
    first = Run(cfg, out, hang="step:1:1")                     # holds the folder, paused in epoch 1
    first.marker.wait(120)
    assert first.marker.is_set(), "".join(first.stderr)
    before = snapshot(out, skip=(run_files.VISUALDL,))         # the paused run's log writer may still flush
    for extra in ([], ["--resume"], ["--backup"]):
        second = subprocess.run([sys.executable, str(ROOT / "tools" / "train.py"), "-c", cfg, *extra],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        err = one_error(second.stderr)
        assert (f"{out} is in use by another training run (pid {first.proc.pid} on {socket.gethostname()}, "
                f"started 20") in err
        assert "choose another Global.output_dir" in err
    assert snapshot(out, skip=(run_files.VISUALDL,)) == before  # the refused processes wrote nothing
    os.kill(first.proc.pid, signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    with RunLock(str(out)):                                     # the kernel released the lock with the process
        pass
    assert not (out / run_files.LOCK).exists()


def test_the_lock_is_reentrant_in_one_process_and_exclusive_across_processes(tmp_path):
    out = str(tmp_path / "run")
    holder = ("import sys; sys.path.insert(0, sys.argv[2])\n"
              "from paddle_tricks.engine.run_lock import RunLock\n"
              "with RunLock(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", holder, out, str(ROOT)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        try:
            with RunLock(out):
                raise AssertionError("two processes held the same folder")
        except RunFolderBusy as e:
            assert f"(pid {proc.pid} on " in str(e)
    finally:
        proc.communicate("", timeout=30)
    with RunLock(out), RunLock(out):                            # the trainer re-takes what run_training holds
        assert (pathlib.Path(out) / run_files.LOCK).exists()
    assert not (pathlib.Path(out) / run_files.LOCK).exists()


def test_a_new_run_on_finished_results_is_refused_and_backup_moves_them_aside(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = write_cfg(tmp_path, out, Global={"epochs": 1})
    assert train_main(["-c", cfg]) == 0
    finished = snapshot(out)
    assert {run_files.CONFIG, run_files.METRICS, run_files.BEST, run_files.CHECKPOINT, run_files.CLASSES} <= set(finished)
    capsys.readouterr()
    assert train_main(["-c", cfg, "-o", "LR.base_lr=0.07"]) == 2
    err = one_error(capsys.readouterr().err)
    assert f"{out} holds the results of another run (config.yaml, metrics.jsonl, best.safetensors" in err
    assert "nothing was changed" in err and "add --resume" in err and "-o Global.output_dir=" in err
    assert f"--backup to move the old results to {out}.backup-<time>" in err
    assert snapshot(out) == finished

    assert train_main(["-c", cfg, "-o", "LR.base_lr=0.07", "--backup"]) == 0
    log = capsys.readouterr().out
    (backup,) = [p for p in tmp_path.iterdir() if p.name.startswith("run.backup-")]
    assert "moved the earlier run's results (config.yaml, metrics.jsonl" in log and str(backup) in log
    assert snapshot(backup) == finished                        # the old results, byte for byte
    assert yaml.safe_load((out / run_files.CONFIG).read_text())["LR"]["base_lr"] == 0.07
    assert len((out / run_files.METRICS).read_text().splitlines()) == 1
