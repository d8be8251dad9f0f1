"""Kill -9 in the middle of an epoch and while a checkpoint is being written, resume, and get exactly the
weights and metrics history of a run that was never interrupted; checkpoints are never half-written. SIGTERM
stops a run as Ctrl-C does, with one line."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import yaml

from paddle_tricks.cli import train_main
from paddle_tricks.engine.checkpoint import load_file, temp_files
from helpers import processes_naming
from pause_train import MARKER

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
STEPS_PER_EPOCH = 4   # 64 training images, batch 16


def config(tmp_path) -> str:
    cfg = {"Global": {"output_dir": str(tmp_path / "unused"), "epochs": 3, "seed": 5, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35, "dropout": 0.2}},
           "Data": {"dataset": "quickstart", "batch_size": 16,
                    "options": {"num_per_class": 4, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"RandomHorizontalFlip": {}}, {"Transpose": {}}, NORM],
                    "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "CosineWarmup", "base_lr": 0.05, "warmup_epochs": 1, "warmup_start_lr": 0.005},
           "EMA": {"enable": True, "decay": 0.9}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


class Run:
    """``tools/train.py`` in a subprocess; stderr is read by a thread so the test can wait for a marker."""

    def __init__(self, cfg: str, out: pathlib.Path, *extra, hang: str | None = None):
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
        self.out = out
        self.stdout_path = out.parent / f"{out.name}.{time.time_ns()}.stdout"
        self.stdout_file = open(self.stdout_path, "w")
        launcher = [str(ROOT / "tests" / "pause_train.py"), hang] if hang else [str(ROOT / "tools" / "train.py")]
        self.proc = subprocess.Popen([sys.executable, *launcher, "-c", cfg,
                                      "-o", f"Global.output_dir={out}", *extra],
                                     stdout=self.stdout_file, stderr=subprocess.PIPE, text=True, env=env)
        self.stderr: list[str] = []
        self.marker = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line)
            if line.startswith(MARKER):
                self.marker.set()

    def kill_at_marker(self, timeout: float = 120.0, sig: int = signal.SIGKILL) -> int:
        """Wait for the pause point, checking every checkpoint file meanwhile, then send ``sig``."""
        deadline = time.time() + timeout
        while not self.marker.is_set():
            assert self.proc.poll() is None, "".join(self.stderr)
            assert time.time() < deadline, "the pause point was never reached"
            check_checkpoints_load(self.out)
            time.sleep(0.1)
        os.kill(self.proc.pid, sig)
        return self.wait()

    def wait(self, timeout: float = 240.0) -> int:
        code = self.proc.wait(timeout)
        self.reader.join(10)
        self.stdout_file.close()
        return code

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()


_seen: dict[str, float] = {}


def check_checkpoints_load(out: pathlib.Path) -> None:
    """Every non-temporary file in checkpoints/ loads as a complete checkpoint (checked when it changes)."""
    folder = out / "checkpoints"
    if not folder.is_dir():
        return
    for name in os.listdir(folder):
        path = folder / name
        if name.startswith(".") or not path.is_file():
            continue
        mtime = path.stat().st_mtime_ns
        if _seen.get(str(path)) == mtime:
            continue
        ckpt = load_file(str(path))
        assert {"model", "optimizer", "epoch", "history"} <= set(ckpt), name
        assert len(ckpt["history"]) == ckpt["epoch"]
        _seen[str(path)] = mtime


def load_ckpt(out: pathlib.Path) -> dict:
    return load_file(str(out / "checkpoints" / "latest.safetensors"))


def metrics(out: pathlib.Path) -> list[dict]:
    return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]


TIMINGS = ("time", "train_images_per_s")   # wall-clock figures, the only fields a resume may change


def without_time(records):
    return [{k: v for k, v in r.items() if k not in TIMINGS} for r in records]


def assert_same_state(a: dict, b: dict, what: str):
    assert set(a) == set(b), what
    for k in a:
        if isinstance(a[k], (int, float)):
            assert a[k] == b[k], f"{what}: {k}"
            continue
        np.testing.assert_array_equal(np.asarray(b[k]), np.asarray(a[k]), err_msg=f"{what}: {k}")


def test_sigkill_mid_epoch_and_mid_save_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    cfg = config(tmp_path)
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full = Run(cfg, full_dir)                                   # the reference, run alongside
    cut = Run(cfg, cut_dir, hang="step:2:2")                  # paused after step 2 of 4 of epoch 2
    assert cut.kill_at_marker() == -signal.SIGKILL
    ckpt = load_ckpt(cut_dir)
    assert ckpt["epoch"] == 1 and len(ckpt["history"]) == 1    # epoch 1 kept, half of epoch 2 lost
    assert len(metrics(cut_dir)) == 1
    assert temp_files(str(cut_dir)) == [] and temp_files(str(cut_dir / "checkpoints")) == []

    # resume, and be killed again while the epoch-3 checkpoint is being written (temp file done, not renamed)
    cut2 = Run(cfg, cut_dir, "--resume", hang="save:3")
    assert cut2.kill_at_marker() == -signal.SIGKILL
    assert "resumed from" in cut2.stdout and "after epoch 1" in cut2.stdout
    leftover = temp_files(str(cut_dir / "checkpoints"))
    assert len(leftover) == 1                                   # the unfinished save ...
    assert load_ckpt(cut_dir)["epoch"] == 2                     # ... never touched the real file
    assert len(metrics(cut_dir)) == 2                           # metrics never run ahead of the checkpoint

    assert full.wait() == 0, "".join(full.stderr)
    cut3 = Run(cfg, cut_dir, "--resume")
    assert cut3.wait() == 0, "".join(cut3.stderr)
    assert "removed 1 temporary file(s)" in cut3.stdout and "after epoch 2" in cut3.stdout
    assert temp_files(str(cut_dir)) == [] and temp_files(str(cut_dir / "checkpoints")) == []
    check_checkpoints_load(cut_dir)

    # the resumed run equals the uninterrupted one: weights, EMA, optimizer state, history, best weights
    a, b = load_ckpt(full_dir), load_ckpt(cut_dir)
    assert a["epoch"] == b["epoch"] == 3
    assert_same_state(a["model"], b["model"], "model")
    assert_same_state(a["ema"], b["ema"], "EMA")
    assert_same_state(a["optimizer"], b["optimizer"], "optimizer")
    assert without_time(a["history"]) == without_time(b["history"])
    assert without_time(metrics(full_dir)) == without_time(metrics(cut_dir))
    assert len(metrics(full_dir)) == 3
    assert_same_state(load_file(str(full_dir / "best.safetensors")), load_file(str(cut_dir / "best.safetensors")),
                      "best.safetensors")
    # and it really continued (a run that ignored the checkpoint and started over would match too):
    # it trained epoch 3 only, and kept the history of the killed runs (their own timings)
    assert "epoch 3/3  " in cut3.stdout and "epoch 1/3  " not in cut3.stdout and "epoch 2/3  " not in cut3.stdout
    assert b["history"][0]["time"] == ckpt["history"][0]["time"]

    # resuming the finished run says so and exits 0 without touching it
    capsys.readouterr()
    assert train_main(["-c", cfg, "-o", f"Global.output_dir={cut_dir}", "--resume"]) == 0
    assert "already finished (3/3 epochs)" in capsys.readouterr().out
    assert load_ckpt(cut_dir)["epoch"] == 3


def test_sigterm_stops_like_ctrl_c_with_one_line_and_the_run_resumes(tmp_path):
    # kill, timeout and job schedulers send SIGTERM; Paddle's own handler would print a C++ "FatalError" block
    cfg = config(tmp_path)
    out = tmp_path / "stopped"
    run = Run(cfg, out, "-o", "Data.num_workers=1", hang="step:2:2")   # a DataLoader worker is alive then
    assert run.kill_at_marker(sig=signal.SIGTERM) == 128 + signal.SIGTERM
    said = [line.rstrip("\n") for line in run.stderr if not line.startswith(MARKER)]
    assert said == ["stopped by SIGTERM; the last finished epoch is saved: rerun with --resume to continue"]
    assert load_ckpt(out)["epoch"] == 1 and len(metrics(out)) == 1
    assert temp_files(str(out)) == [] and temp_files(str(out / "checkpoints")) == []
    deadline = time.time() + 10
    while processes_naming(str(out)) and time.time() < deadline:    # the worker is gone too
        time.sleep(0.1)
    assert processes_naming(str(out)) == []

    resumed = Run(cfg, out, "--resume")
    assert resumed.wait() == 0, "".join(resumed.stderr)
    assert "after epoch 1" in resumed.stdout and "epoch 3/3  " in resumed.stdout
    assert "epoch 1/3  " not in resumed.stdout
