"""tools/ablate.py: variant discovery, the dry-run commands, a real tiny ablation that resumes, the summary."""
import os
import pathlib
import shlex
import sys

import pytest
import yaml

from paddle_tricks.cli.ablate import ablate_main
from paddle_tricks.ablate import (Job, Variant, ablate, ablation_table, discover_variants,
                                  job_finished, select_variants)
from paddle_tricks.config import load_config
from paddle_tricks.errors import UserError
from paddle_tricks.report.compare import RunSummary
from paddle_tricks.report.runs import trick_summary

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
TINY = {
    "Global": {"epochs": 1, "seed": 5, "verbose": 0},
    "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35, "dropout": 0.2}},
    "Data": {"dataset": "quickstart", "batch_size": 16,
             "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
             "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
    "LR": {"name": "Cosine", "base_lr": 0.05},
    "VisualDL": {"enable": False},
}


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture
def folder(tmp_path):
    """A base, two variants (string and list ``_base_``), a config of another base, one in a subfolder."""
    d = tmp_path / "abl"
    base = write(d / "base_tiny.yaml", TINY)
    write(d / "relu.yaml", {"_base_": "base_tiny.yaml", "Arch": {"tricks": {"act": "relu", "input_size": 32}}})
    write(d / "drop.yaml", {"_base_": ["base_tiny.yaml"], "Arch": {"tricks": {"dropout": 0.3}}})
    write(d / "other_base.yaml", TINY)
    write(d / "other.yaml", {"_base_": "other_base.yaml", "Arch": {"tricks": {"dropout": 0.1}}})
    write(d / "sub" / "deep.yaml", {"_base_": "../base_tiny.yaml"})
    (d / "notes.txt").write_text("_base_: base_tiny.yaml")
    return d, base


def test_discovery_and_selection(folder):
    d, base = folder
    found = discover_variants(base)
    assert [(v.name, os.path.basename(v.config)) for v in found] == [("drop", "drop.yaml"), ("relu", "relu.yaml")]
    assert [v.name for v in discover_variants(str(d / "other_base.yaml"))] == ["other"]
    assert [v.name for v in select_variants(found, ["relu", "drop", "relu"])] == ["relu", "drop"]
    with pytest.raises(UserError, match="unknown trick.*relx.*variants of this base are: drop, relu"):
        select_variants(found, ["relx"])
    with pytest.raises(UserError, match="base config not found"):
        discover_variants(str(d / "missing.yaml"))


def test_dry_run_prints_one_command_per_variant_and_seed(folder, tmp_path, capsys):
    d, base = folder
    out = tmp_path / "out"
    assert ablate_main(["-c", base, "--seeds", "0,1", "--dry-run", "--out", str(out),
                        "-o", "Global.epochs=2"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "paddle-tricks train" in ln and not ln.startswith("#")]
    assert len(lines) == 3 * 2  # base + 2 variants, 2 seeds
    seen = set()
    for ln in lines:
        argv = shlex.split(ln)
        opts = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "-o")
        name = os.path.splitext(os.path.basename(argv[argv.index("-c") + 1]))[0]
        name = "base" if name == "base_tiny" else name
        seed = int(opts["Global.seed"])
        assert opts["Global.output_dir"] == os.path.join(str(out), f"{name}_s{seed}")
        assert opts["Global.epochs"] == "2" and opts["Global.resume"] == "auto"   # resumes only if a checkpoint exists
        seen.add((name, seed))
    assert seen == {(n, s) for n in ("base", "drop", "relu") for s in (0, 1)}
    assert not out.exists()  # nothing ran


def test_cli_errors(folder, capsys):
    d, base = folder
    assert ablate_main(["-c", base, "--tricks", "nope", "--dry-run"]) == 2
    assert "unknown trick(s) nope" in capsys.readouterr().err
    assert ablate_main(["-c", base, "-o", "Global.seed=3", "--dry-run"]) == 2
    assert "set by ablate" in capsys.readouterr().err
    assert ablate_main(["-c", base, "--seeds", "a,b", "--dry-run"]) == 2
    assert "--seeds must be comma-separated integers" in capsys.readouterr().err


def test_repository_ablation_configs_are_discovered():
    base = ROOT / "configs" / "ablations" / "base_resnet18_shapes.yaml"
    variants = discover_variants(str(base))
    assert len(variants) >= 5
    base_cfg = load_config(str(base))
    assert trick_summary(base_cfg) == "-"
    for v in variants:
        cfg = load_config(v.config)
        assert trick_summary(cfg) != "-", v.name  # every variant switches a trick on
        # same budget and recipe as the base: only Arch.tricks / Loss / output_dir differ
        for sec in ("Data", "Optimizer", "LR", "EMA"):
            assert cfg[sec] == base_cfg[sec], (v.name, sec)
        assert cfg["Global"]["epochs"] == base_cfg["Global"]["epochs"]


def test_real_ablation_runs_once_then_skips(folder, tmp_path):
    d, base = folder
    out = tmp_path / "runs"
    logs = []
    assert ablate(base, ["relu"], [3], str(out), latency=False, log=logs.append) == 0
    for name in ("base_s3", "relu_s3"):
        cfg = yaml.safe_load((out / name / "config.yaml").read_text())
        assert cfg["Global"]["seed"] == 3 and cfg["Global"]["output_dir"] == str(out / name)
        assert len((out / name / "metrics.jsonl").read_text().splitlines()) == 1
    assert yaml.safe_load((out / "relu_s3" / "config.yaml").read_text())["Arch"]["tricks"]["act"] == "relu"
    md = (out / "report" / "ablation.md").read_text()
    assert "| base | - | 1 |" in md and "| relu | act=relu | 1 |" in md and "## Per run" in md
    assert (out / "report" / "top1_per_epoch.png").is_file()

    stamp = {n: os.path.getmtime(out / n / "metrics.jsonl") for n in ("base_s3", "relu_s3")}
    logs.clear()
    assert ablate(base, ["relu"], [3], str(out), latency=False, log=logs.append) == 0
    assert sum("already finished" in m for m in logs) == 2
    assert stamp == {n: os.path.getmtime(out / n / "metrics.jsonl") for n in ("base_s3", "relu_s3")}
    # a longer budget makes the finished runs unfinished again
    job = Job(Variant("base", base), 3, str(out / "base_s3"), ["Global.epochs=2"])
    assert not job_finished(job) and job_finished(Job(Variant("base", base), 3, str(out / "base_s3")))


def test_failed_job_is_reported_and_the_rest_still_runs(folder, tmp_path):
    d, base = folder
    logs = []
    fake = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with pytest.raises(UserError, match="every training job failed, so there is nothing to compare; base_s0: "):
        ablate(base, ["relu"], [0], str(tmp_path / "f"), latency=False, train_cmd=fake, log=logs.append)
    assert sum("FAILED (exit code 3)" in m for m in logs) == 2   # the second job still ran


def test_ablation_table_means_and_differences():
    def row(label, best, seed, status="finished"):
        return RunSummary(label, label, status, tricks="-" if label.startswith("base") else "t", best_top1=best,
                          final_top1=best, seed=seed, params=1000, madds=2_000_000, train_seconds=60.0)
    rows = [row("base_s0", 0.50, 0), row("base_s1", 0.54, 1), row("acb_s0", 0.60, 0), row("acb_s1", 0.58, 1),
            row("se_s0", 0.40, 0), row("se_s1", 0.9, 1, status="unfinished")]
    md = ablation_table(rows)
    lines = {ln.split("|")[1].strip(): [c.strip() for c in ln.strip("|").split("|")] for ln in md.splitlines()
             if ln.startswith("| ") and not ln.startswith("| Variant")}
    assert lines["base"][4] == "52.00" and lines["base"][5] == "-"
    assert lines["acb"][4] == "59.00" and lines["acb"][5] == "+7.00" and lines["acb"][2] == "2"
    # the unfinished seed is left out of the mean and said so
    assert lines["se"][2] == "1" and lines["se"][4] == "40.00" and lines["se"][5] == "-12.00"
    assert "+ 1 unfinished" in lines["se"][3]
    assert "spread of the base: 4.00 pp" in md


def test_sigterm_stops_the_ablation_and_its_training_then_the_same_command_goes_on(folder, tmp_path):
    # kill and job schedulers signal the ablate process alone: it passes SIGTERM on to its training and waits
    import signal
    import subprocess
    import time
    d, base = folder
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "paddle_tricks", "ablate", "-c", base, "--tricks", "relu", "--seeds", "3",
           "--out", str(out), "--no-latency", "-o", "Global.epochs=200"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    metrics = out / "base_s3" / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.is_file() and metrics.read_text().count("\n") >= 2):   # two epochs of the base done
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 128 + signal.SIGTERM
    said = proc.stderr.read().splitlines()
    assert said[-1] == ("stopped by SIGTERM; finished runs are kept, and the stopped one keeps its last finished "
                        "epoch: rerun the same command to go on")
    log = (out / "logs" / "base_s3.log").read_text() if (out / "logs").is_dir() else ""
    assert "stopped by SIGTERM; the last finished epoch is saved" in log, log[-2000:]
    assert "FatalError" not in log and not (out / "relu_s3").exists()     # the training stopped, nothing after it
    kept = len(metrics.read_text().splitlines())
    assert kept >= 2
    time.sleep(2)
    assert len(metrics.read_text().splitlines()) == kept                  # and it is not training on, orphaned
