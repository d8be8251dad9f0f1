"""The command-line tools: a user mistake ends with one clear line and exit code 2, never a traceback."""
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
    proc = run("train.py", "-c", tiny(tmp_path, Data={"dataset": "caltech16", "root": str(tmp_path / "nope")}))
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
    cfg = tiny(tmp_path, Arch={"num_classes": 2}, Data={"dataset": "folder", "root": str(tmp_path / "imgs")})
    proc = run("train.py", "-c", cfg)
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 unusable file(s): broken.jpg" in proc.stderr
    # a dataset with no readable image at all is an error
    for f in (tmp_path / "imgs").rglob("*.png"):
        f.write_bytes(b"")
    assert_clean_error(run("train.py", "-c", cfg), "can be read")


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
