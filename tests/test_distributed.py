"""Two CPU processes through paddle.distributed.launch (gloo): training runs, only rank 0 writes."""
import os
import pathlib
import subprocess
import sys

import yaml

from paddle_tricks.engine import run_files

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def test_two_process_cpu_launch(tmp_path):
    out = tmp_path / "run"
    cfg = {"Global": {"output_dir": str(out), "epochs": 2, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 8,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "Cosine", "base_lr": 0.01}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                           "--log_dir", str(tmp_path / "log"), str(ROOT / "tools" / "train.py"), "-c", str(path)],
                          capture_output=True, text=True, env=env, timeout=300)
    logs = {p.name: p.read_text() for p in (tmp_path / "log").glob("workerlog.*")}
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + str({k: v[-1500:] for k, v in logs.items()})
    assert set(logs) == {"workerlog.0", "workerlog.1"}
    assert "final eval top-1" in logs["workerlog.0"] and "final eval top-1" not in logs["workerlog.1"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2                                     # one writer: no duplicated records
    assert len(list((out / "vdl").iterdir())) == 1             # one VisualDL log
    # each rank saw half of the 32 training images per epoch: 2 steps of 8
    assert (out / run_files.CHECKPOINT).is_file() and not (out / run_files.LOCK).exists()
