"""A normal run of the tools prints only the suite's own lines: a tiny training, then its resumption, eval,
export and compare, each in its own process, show no Paddle warning, C++ log line or high-level-API chatter.
PADDLE_TRICKS_VERBOSE=1 brings Paddle's C++ log lines back."""
import os
import re
import subprocess
import sys
import tempfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}

# what Paddle and its tools print, never the suite
FOREIGN = [
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d",                     # glog: I1130 23:29:09.383908 ... / W1130 ...
    r"WARNING", r"Warning", r"warnings\.warn", r"site-packages",
    r"ccache", r"OMP_NUM_THREADS", r"LAUNCH", r"PIR", r"Traceback",
    r"Eval begin", r"Eval samples", r"The loss value printed", r"^Epoch \d+/\d+$", r"step \d+/\d+ \[=",   # hapi
    r"Running analysis", r"Running IR pass", r"\[Paddle2ONNX\]",                                      # deploy
    r"\[\s*INFO\]", r"fontManager",                          # library INFO logs through Paddle's root handler
]


def tiny_config(tmp_path) -> str:
    cfg = {"Global": {"output_dir": str(tmp_path / "run"), "epochs": 1},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 16,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "EMA": {"enable": True}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def run(*args, verbose=False):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONWARNINGS", "PADDLE_TRICKS_VERBOSE") and not k.startswith(("GLOG_", "FLAGS_"))}
    if verbose:
        env["PADDLE_TRICKS_VERBOSE"] = "1"
    with tempfile.TemporaryDirectory() as font_cache:  # empty: matplotlib logs an INFO line as it builds one
        env["MPLCONFIGDIR"] = font_cache
        proc = subprocess.run([sys.executable, "-m", "paddle_tricks", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def foreign_lines(proc) -> list[str]:
    lines = [line for line in re.split(r"[\r\n]+", proc.stdout + "\n" + proc.stderr) if line.strip()]
    return [line for line in lines if any(re.search(p, line) for p in FOREIGN)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quiet")
    proc = run("train", "-c", tiny_config(tmp))
    return tmp, proc


def test_training_prints_only_the_suites_lines(trained):
    _, proc = trained
    assert foreign_lines(proc) == []
    assert "top-1" in proc.stdout + proc.stderr          # and it did report


@pytest.mark.parametrize("command", ["resume", "eval", "export", "compare", "ablate"])
def test_the_other_tools_print_only_the_suites_lines(trained, command):
    tmp, _ = trained
    args = {"resume": ["train", "-c", str(tmp / "cfg.yaml"), "--resume", "-o", "Global.epochs=2"],
            "eval": ["eval", "-c", str(tmp / "run")],
            "export": ["export", "-c", str(tmp / "run"), "--out", str(tmp / "export")],
            "compare": ["compare", str(tmp / "run"), "--out", str(tmp / "compare")],
            "ablate": ["ablate", "-c", "configs/ablations/base_resnet18_shapes.yaml", "--tricks", "se", "--seeds", "0",
                       "--out", str(tmp / "ablate"), "--dry-run"]}[command]
    assert foreign_lines(run(*args)) == []


def test_verbose_brings_paddles_log_back(trained):
    tmp, _ = trained
    proc = run("export", "-c", str(tmp / "run"), "--out", str(tmp / "export_verbose"), verbose=True)
    assert any(re.search(FOREIGN[0], line) for line in (proc.stdout + proc.stderr).splitlines())
