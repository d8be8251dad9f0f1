"""paddle-tricks infer: the same predictions as eval, in dygraph, paddle.inference and ONNX Runtime."""
import csv
import json
import os

import numpy as np
import pytest
import yaml
from PIL import Image

from paddle_tricks.cli import main
from paddle_tricks.engine import run_files
from paddle_tricks.errors import UserError
from paddle_tricks.infer.sources import collect_images
from helpers import assert_one_error

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220), "grey": (128, 128, 128)}


def _images(root, per_class, seed):
    """Noisy 24 px images, one colour per class, in root/<class>/."""
    rng = np.random.RandomState(seed)
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            arr = np.clip(np.array(rgb) + rng.normal(0, 60, (24, 24, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / name / f"{i}.png")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained for six epochs on a folder dataset, and its eval metrics written by `eval --json`."""
    tmp = tmp_path_factory.mktemp("infer")
    _images(tmp / "data" / "train", 6, 0)
    _images(tmp / "data" / "eval", 6, 1)
    cfg = {"Global": {"output_dir": str(tmp / "run"), "epochs": 6, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 4, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "folder", "root": str(tmp / "data"), "batch_size": 4,
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "LR": {"name": "Constant", "base_lr": 0.02}}
    (tmp / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "-c", str(tmp / "cfg.yaml")]) == 0
    assert main(["eval", "-c", str(tmp / "run"), "--json", str(tmp / "eval.json")]) == 0
    return tmp, json.loads((tmp / "eval.json").read_text())


def _top1(csv_path, data_root):
    """Top-1 accuracy of a predictions CSV whose images sit in <data_root>/<class>/, and the predicted labels."""
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    hits = [os.path.basename(os.path.dirname(r["path"])) == r["class1"] for r in rows]
    return sum(hits) / len(rows), [r["class1"] for r in rows]


def test_infer_agrees_with_eval_in_every_runtime(trained, capsys):
    tmp, metrics = trained
    eval_dir = tmp / "data" / "eval"
    assert main(["infer", str(eval_dir), "-m", str(tmp / "run"), "--out", str(tmp / "dygraph.csv")]) == 0
    top1, dygraph = _top1(tmp / "dygraph.csv", eval_dir)
    assert top1 == pytest.approx(metrics["top1"]) and len(dygraph) == metrics["samples"] == 24
    assert len(set(dygraph)) > 1, "a net predicting one class everywhere would prove little"
    out = capsys.readouterr().out
    assert f"predictions written to {tmp / 'dygraph.csv'}" in out
    for fmt in ("paddle", "onnx"):
        folder = tmp / f"export_{fmt}"
        assert main(["export", "-c", str(tmp / "run"), "--format", fmt, "--out", str(folder)]) == 0
        info = json.loads((folder / "deploy.json").read_text())
        assert info["classes"] == sorted(COLOURS) and info["input_shape"] == [3, 24, 24]
        out = str(tmp / f"{fmt}.csv")
        assert main(["infer", str(eval_dir), "-m", str(folder), "--threads", "1", "--out", out]) == 0
        assert _top1(tmp / f"{fmt}.csv", eval_dir) == (top1, dygraph)


def test_infer_probabilities_top_k_and_json(trained, capsys):
    tmp, _ = trained
    image = str(tmp / "data" / "eval" / "red" / "0.png")
    assert main(["infer", image, "-m", str(tmp / "run"), "-k", "3", "--out", str(tmp / "p.json")]) == 0
    (pred,) = json.loads((tmp / "p.json").read_text())
    probs = [t["prob"] for t in pred["top"]]
    assert pred["path"] == image and len(probs) == 3 and probs == sorted(probs, reverse=True)
    # k larger than the class count: all four classes, probabilities summing to 1
    assert main(["infer", image, "-m", str(tmp / "run"), "-k", "9", "--out", str(tmp / "all.json")]) == 0
    (pred,) = json.loads((tmp / "all.json").read_text())
    assert sorted(t["class"] for t in pred["top"]) == sorted(COLOURS)
    assert sum(t["prob"] for t in pred["top"]) == pytest.approx(1.0, abs=1e-6)
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(image)][0]
    assert line.split(": ", 1)[1].split()[0] == pred["top"][0]["class"]
    # -c CONFIG: the run in the config's output_dir, the same prediction
    assert main(["infer", image, "-c", str(tmp / "cfg.yaml"), "--out", str(tmp / "by_config.json")]) == 0
    assert json.loads((tmp / "by_config.json").read_text())[0]["top"][0] == pred["top"][0]


def test_sources_file_folder_glob_and_list(tmp_path):
    _images(tmp_path / "imgs", 2, 0)
    (tmp_path / "imgs" / "notes.md").write_text("not an image")
    everything = collect_images([str(tmp_path / "imgs")])
    assert len(everything) == 8 and all(p.endswith(".png") for p in everything)
    assert collect_images([str(tmp_path / "imgs" / "*" / "1.png")]) == sorted(
        str(tmp_path / "imgs" / c / "1.png") for c in COLOURS)
    (tmp_path / "list.txt").write_text("# images\nimgs/red/0.png 0\n\nimgs/blue/1.png\n")
    assert collect_images([str(tmp_path / "list.txt")]) == [str(tmp_path / "imgs" / "red" / "0.png"),
                                                            str(tmp_path / "imgs" / "blue" / "1.png")]
    for bad, needle in ((str(tmp_path / "nope.png"), "no such image"), (str(tmp_path / "x*.png"), "no image file")):
        with pytest.raises(UserError, match=needle):
            collect_images([bad])
    (tmp_path / "bad.txt").write_text("imgs/red/9.png\n")
    with pytest.raises(UserError, match="line 1: image not found"):
        collect_images([str(tmp_path / "bad.txt")])


def test_infer_user_errors(trained, tmp_path, capsys):
    tmp, _ = trained
    image = str(tmp / "data" / "eval" / "red" / "0.png")
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    (untrained / run_files.CONFIG).write_text((tmp / "run" / run_files.CONFIG).read_text())
    cases = [
        (["infer", image, "-m", str(untrained)], ["no trained weights", "train first"]),
        (["infer", image, "-m", str(tmp / "run"), "--ema"], ["no EMA weights", "drop --ema"]),
        (["infer", image, "-m", str(tmp_path / "nowhere")], ["model not found"]),
        (["infer", image, "-m", str(tmp / "data")], ["not an export folder"]),
        (["infer", image, "-m", str(tmp / "run"), "--out", str(tmp_path / "p.txt")], [".csv or .json"]),
        (["infer", image, "-m", str(tmp / "run"), "--out", str(tmp_path / "no" / "p.csv")], ["does not exist"]),
        (["infer", image, "-m", str(tmp / "run"), "-k", "0"], ["--top-k must be a positive integer"]),
        (["infer", image, "-m", str(tmp / "run"), "--threads", "0"], ["--threads must be a positive integer"]),
    ]
    for argv, needles in cases:
        assert main(argv) == 2, argv
        assert_one_error(capsys, *needles)
    assert not (tmp_path / "p.txt").exists()
    # an unreadable image among good ones is skipped with a warning, the others are classified
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    assert main(["infer", image, str(broken), "-m", str(tmp / "run")]) == 0
    captured = capsys.readouterr()
    assert f"warning: skipped {broken}" in captured.err and "1 image(s) classified, 1 skipped" in captured.out


def test_infer_on_a_damaged_export(trained, tmp_path, capsys):
    tmp, _ = trained
    image = str(tmp / "data" / "eval" / "red" / "0.png")
    for fmt, model in (("paddle", "model.json"), ("onnx", "model.onnx")):
        folder = tmp_path / fmt
        assert main(["export", "-c", str(tmp / "run"), "--format", fmt, "--out", str(folder)]) == 0
        (folder / model).write_bytes(b"\x00 not a model")
        assert main(["infer", image, "-m", str(folder)]) == 2
        assert_one_error(capsys, "cannot load", str(folder / model), "export the model again")
    (tmp_path / "onnx" / "deploy.json").write_text('{"format": "tflite"}')
    assert main(["infer", image, "-m", str(tmp_path / "onnx")]) == 2
    assert_one_error(capsys, "deploy.json lacks one of")


def test_infer_out_on_a_full_disk_writes_nothing(trained, tmp_path, capsys, monkeypatch):
    import errno
    import paddle_tricks.utils.atomic as atomic
    tmp, _ = trained

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    image = str(tmp / "data" / "eval" / "red" / "0.png")
    assert main(["infer", image, "-m", str(tmp / "run"), "--out", str(tmp_path / "p.csv")]) == 2
    assert_one_error(capsys, f"could not write {tmp_path / 'p.csv'}", "nothing was written", "choose another --out")
    assert os.listdir(tmp_path) == []
