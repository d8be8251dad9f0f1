"""The command-line tools: a user mistake ends with one clear line and exit code 2, never a traceback."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def tiny(tmp_path, **over):
    cfg = {"Global": {"output_dir": str(tmp_path / "run"), "epochs": 1, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 16,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]}}
    for sec, val in over.items():
        cfg.setdefault(sec, {}).update(val)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def run(tool, *args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, str(ROOT / "tools" / tool), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for n in needles:
        assert n in errors[0], errors[0]


@pytest.mark.parametrize("override, needles", [
    ("Global.epoch=3", ["unknown key 'Global.epoch'", "did you mean 'epochs'"]),
    ("Data.batch_size=big", ["Data.batch_size must be a positive integer", "'big'"]),
    ("Arch.name=asymmnet_lage", ["unknown model 'asymmnet_lage'", "asymmnet_large"]),
    ("Data.train_transforms=[{RandomFlip: {}}]", ["unknown transform 'RandomFlip'"]),
])
def test_config_mistakes(tmp_path, override, needles):
    assert_clean_error(run("train.py", "-c", tiny(tmp_path), "-o", override), *needles)


def test_missing_dataset_folder(tmp_path):
    proc = run("train.py", "-c", tiny(tmp_path, Data={"dataset": "caltech16", "root": str(tmp_path / "nope"),
                                                    "options": {}}))
    assert_clean_error(proc, "Caltech-101 not found", "nope")


def test_unreadable_images(tmp_path):
    # one class of good images and one broken file: the broken one is skipped with a warning naming it
    from PIL import Image
    for split in ("train", "eval"):
        for c in ("a", "b"):
            d = tmp_path / "imgs" / split / c
            d.mkdir(parents=True)
            Image.new("RGB", (32, 32), (200, 10, 10) if c == "a" else (10, 10, 200)).save(d / "x.png")
    (tmp_path / "imgs" / "train" / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    cfg = tiny(tmp_path, Arch={"num_classes": 2}, Data={"dataset": "folder", "root": str(tmp_path / "imgs"),
                                                       "options": {}})
    proc = run("train.py", "-c", cfg)
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 unusable file(s): broken.jpg" in proc.stderr
    # a dataset with no readable image at all is an error
    for f in (tmp_path / "imgs").rglob("*.png"):
        f.write_bytes(b"")
    assert_clean_error(run("train.py", "-c", cfg, "-o", f"Global.output_dir={tmp_path / 'run2'}"), "can be read")


def test_eval_and_checkpoint_of_another_architecture(tmp_path):
    cfg = tiny(tmp_path)
    assert run("train.py", "-c", cfg).returncode == 0
    proc = run("eval.py", "-c", cfg)
    assert proc.returncode == 0, proc.stderr
    assert "top-1:" in proc.stdout and "per-class top-1:" in proc.stdout
    proc = run("eval.py", "-c", cfg, "-o", "Arch.name=mobilenet_v2", "-o", "Arch.options={}")
    assert_clean_error(proc, "does not fit the model", "another architecture")
    proc = run("eval.py", "-c", cfg, "-o", "Arch.num_classes=10")
    assert_clean_error(proc, "shape mismatch")
    proc = run("eval.py", "-c", cfg, "--weights", str(tmp_path / "missing.pdparams"))
    assert_clean_error(proc, "checkpoint not found: looked for", "missing.pdparams")


def pt(*args, cwd=None):
    """``python -m paddle_tricks ARGS`` in a subprocess."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "paddle_tricks", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=cwd)


def test_one_command_lists_commands_and_configs(tmp_path):
    proc = pt("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("train", "eval", "export", "infer", "compare", "ablate", "prepare-data", "configs"):
        assert f"  {command} " in proc.stdout
    assert_clean_error(pt("trian", cwd=tmp_path), "unknown command 'trian'", "did you mean 'train'?")
    proc = pt("configs", cwd=tmp_path)
    names = proc.stdout.splitlines()
    assert proc.returncode == 0 and "quickstart" in names and "caltech16/asymmnet_large" in names
    assert not any(n.rsplit("/", 1)[-1].startswith("_") for n in names)   # bases are not listed
    proc = pt("configs", "--long", cwd=tmp_path)
    described = {ln.split()[0]: ln[len(ln.split()[0]):].strip() for ln in proc.stdout.splitlines()[:-1]}
    assert described["caltech16/asymmnet_large"].startswith("asymmnet_large x1.0 on Caltech-16")
    assert set(described) == set(names[:-1])


def test_shipped_config_by_name_from_another_folder(tmp_path):
    from paddle_tricks.configs import CONFIG_DIR, resolve_config
    assert resolve_config("caltech16/asymmnet_large") == os.path.join(CONFIG_DIR, "caltech16", "asymmnet_large.yaml")
    assert resolve_config("configs/quickstart.yaml") == "configs/quickstart.yaml" or os.path.isfile(
        resolve_config("configs/quickstart.yaml"))
    # eval of a config that was never trained says to train first, and names the folder in full
    proc = pt("eval", "-c", "quickstart", "-o", "Global.output_dir=never", cwd=tmp_path)
    assert_clean_error(proc, "no trained weights in " + str(tmp_path / "never"), "train first")
    assert_clean_error(pt("eval", "-c", "caltech16/asymnet_large", cwd=tmp_path),
                       "config file not found", "did you mean 'caltech16/asymmnet_large'?")


def test_eval_json_into_a_missing_folder_and_run_folder(tmp_path):
    cfg = tiny(tmp_path)
    proc = pt("eval", "-c", cfg, "--json", str(tmp_path / "missing" / "m.json"))
    assert_clean_error(proc, "--json", "does not exist")
    assert pt("train", "-c", cfg).returncode == 0
    # a run folder as -c, evaluated from another working folder; --json written and named in full
    other = tmp_path / "elsewhere"
    other.mkdir()
    proc = pt("eval", "-c", str(tmp_path / "run"), "--json", "m.json", cwd=other)
    assert proc.returncode == 0, proc.stderr
    assert "top-1:" in proc.stdout and "top-5:" in proc.stdout and f"written to {other / 'm.json'}" in proc.stdout
    assert json.loads((other / "m.json").read_text())["samples"] == 16
    assert_clean_error(pt("eval", "-c", str(tmp_path / "run"), "--ema"), "no EMA weights", "drop --ema")


def test_compare_error_contract(tmp_path):
    cfg = tiny(tmp_path)
    assert pt("train", "-c", cfg).returncode == 0
    metrics = tmp_path / "run" / "metrics.jsonl"
    first = json.loads(metrics.read_text().splitlines()[0])
    huge = json.dumps({**first, "epoch": 2}).replace('"epoch": 2', '"epoch": 1e400')
    inf_time = json.dumps({**first, "time": 1.0}).replace('"time": 1.0', '"time": 1e400')
    metrics.write_text(metrics.read_text() + huge + "\n" + inf_time + "\n")
    proc = pt("compare", str(tmp_path / "run"), "--out", str(tmp_path / "report"), "--no-latency")
    assert proc.returncode == 0, proc.stderr
    assert "1 unreadable line(s)" in proc.stdout and "1 non-finite value(s)" in proc.stdout
    assert f"written: {tmp_path / 'report' / 'compare.md'}" in proc.stdout
    (tmp_path / "a_file").write_text("")
    proc = pt("compare", str(tmp_path / "run"), "--out", str(tmp_path / "a_file" / "report"), "--no-latency")
    assert_clean_error(proc, "lies under", "which is a file")
    # a run of another dataset: a Dataset column and a warning that the accuracies are not comparable
    import shutil
    shutil.copytree(tmp_path / "run", tmp_path / "other")
    saved = yaml.safe_load((tmp_path / "other" / "config.yaml").read_text())
    saved["Data"].update(dataset="folder", root=str(tmp_path / "flowers"))
    (tmp_path / "other" / "config.yaml").write_text(yaml.safe_dump(saved))
    proc = pt("compare", str(tmp_path / "run"), str(tmp_path / "other"), "--out", str(tmp_path / "r2"), "--no-latency")
    assert proc.returncode == 0, proc.stderr
    assert "warning: the runs come from 2 datasets (folder:flowers, quickstart)" in proc.stderr
    assert "| Dataset |" in proc.stdout and "| folder:flowers |" in proc.stdout
    assert "warning: the runs come from 2 datasets" in (tmp_path / "r2" / "compare.md").read_text()


def test_verbose_anywhere_switches_paddle_output_back_on(monkeypatch, capsys):
    from paddle_tricks.cli import main
    from paddle_tricks.utils.console import VERBOSE_SWITCH
    monkeypatch.setenv(VERBOSE_SWITCH, "0")   # recorded, so that the "1" set by --verbose is undone after the test
    monkeypatch.delenv(VERBOSE_SWITCH)
    assert main(["configs"]) == 0 and VERBOSE_SWITCH not in os.environ
    assert main(["configs", "--verbose"]) == 0 and os.environ[VERBOSE_SWITCH] == "1"
    assert "quickstart" in capsys.readouterr().out.splitlines()


def test_prepare_data_prints_the_full_path_and_the_next_step(tmp_path, fashion_mnist_root):
    proc = pt("prepare-data", "fashion_mnist", "--source", str(fashion_mnist_root), "--dest", "fm", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Fashion-MNIST at {tmp_path / 'fm'}" in proc.stdout
    assert f"next: paddle-tricks train -c fashion_mnist/lenet -o Data.root={tmp_path / 'fm'}" in proc.stdout
