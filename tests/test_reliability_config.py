"""Malformed configs: each one stops before any training with one ``error:`` line that names the key and the
problem, exit code 2 and no traceback. In-process through ``train_main`` (fast), plus two real processes."""
import copy
import os
import pathlib
import subprocess
import sys

import paddle
import pytest
import yaml

from paddle_tricks.cli import train_main

ROOT = pathlib.Path(__file__).resolve().parents[1]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
GOOD = {"Global": {"epochs": 3, "verbose": 0},
        "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
        "Data": {"dataset": "quickstart", "batch_size": 16,
                 "options": {"num_per_class": 1, "eval_per_class": 1, "image_size": 32},
                 "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]}}
DROP = object()   # a delta value that removes the key


def good_text() -> str:
    return yaml.safe_dump(GOOD, sort_keys=False)


def merged(delta: dict) -> dict:
    cfg = copy.deepcopy(GOOD)
    for sec, val in delta.items():
        if isinstance(val, dict) and isinstance(cfg.get(sec), dict):
            for k, v in val.items():
                if v is DROP:
                    cfg[sec].pop(k, None)
                else:
                    cfg[sec][k] = v
        else:
            cfg[sec] = val
    return cfg


def case(id, needles, delta=None, text=None, files=None, o=(), main="cfg.yaml"):
    return pytest.param(dict(delta=delta, text=text, files=files or {}, o=list(o), main=main), needles, id=id)


CASES = [
    # YAML itself
    case("yaml-syntax", ["cfg.yaml: YAML syntax error at line 2"], text="Global: {epochs: 3\nArch: x\n"),
    case("yaml-tab", ["YAML syntax error at line 2", "'\\t'"], text="Global:\n\tepochs: 3\n"),
    case("yaml-duplicate-key", ["duplicate key 'epochs' at line 3 (first at line 2)"],
         text="Global:\n  epochs: 3\n  epochs: 4\n"),
    case("yaml-not-a-mapping", ["a config must be a mapping of sections, got list"], text="- Global\n- Arch\n"),
    case("config-file-missing", ["config file not found", "absent.yaml"], main="absent.yaml"),
    # sections and keys
    case("unknown-section", ["unknown section 'Optimiser'", "did you mean 'Optimizer'"],
         delta={"Optimiser": {"name": "SGD"}}),
    case("unknown-key", ["unknown key 'Global.epcohs'", "did you mean 'epochs'"], delta={"Global": {"epcohs": 3}}),
    case("section-not-mapping", ["section 'LR' must be a mapping of keys, got 0.1"], delta={"LR": 0.1}),
    case("model-name-missing", ["Arch.name is missing"], delta={"Arch": {"name": DROP}}),
    # types and ranges
    case("epochs-not-int", ["Global.epochs must be a positive integer, got 'three'"], delta={"Global": {"epochs": "three"}}),
    case("epochs-zero", ["Global.epochs must be a positive integer, got 0"], delta={"Global": {"epochs": 0}}),
    case("batch-negative", ["Data.batch_size must be a positive integer, got -4"], delta={"Data": {"batch_size": -4}}),
    case("batch-float", ["Data.batch_size must be a positive integer, got 8.5"], delta={"Data": {"batch_size": 8.5}}),
    case("eval-batch-zero", ["Data.eval_batch_size must be a positive integer or null, got 0"],
         delta={"Data": {"eval_batch_size": 0}}),
    case("classes-zero", ["Arch.num_classes must be a positive integer, got 0"], delta={"Arch": {"num_classes": 0}}),
    case("workers-negative", ["Data.num_workers must be an integer >= 0, got -1"], delta={"Data": {"num_workers": -1}}),
    case("lr-bool", ["LR.base_lr must be a number > 0, got True"], delta={"LR": {"base_lr": True}}),
    case("lr-zero", ["LR.base_lr must be a number > 0, got 0"], delta={"LR": {"base_lr": 0}}),
    case("lr-nan", ["LR.base_lr must be a number > 0, got nan"], o=["LR.base_lr=.nan"]),
    case("momentum-one", ["Optimizer.momentum must be a number >= 0 and < 1, got 1.0"],
         delta={"Optimizer": {"momentum": 1.0}}),
    case("ema-decay-one", ["EMA.decay must be a number > 0 and < 1"], delta={"EMA": {"enable": True, "decay": 1}}),
    case("amp-level", ["AMP.level must be one of O1, O2, got 'O3'"], delta={"AMP": {"level": "O3"}}),
    case("device-gpu-without-gpu", ["Global.device=gpu but no GPU is usable"], delta={"Global": {"device": "gpu"}}),
    # names of things
    case("unknown-model", ["Arch.name: unknown model 'resnet51'", "did you mean"], delta={"Arch": {"name": "resnet51"}}),
    case("unknown-model-option", ["Arch.options.widht_mult is not an option of model 'asymmnet_small'",
                                  "did you mean 'width_mult'"],
         delta={"Arch": {"options": {"widht_mult": 0.5}}}),
    case("bad-model-option-value", ["Arch.options.width_mult must be a number > 0 and <= 4, got -1 "
                                    "(model 'asymmnet_small')"],
         delta={"Arch": {"options": {"width_mult": -1}}}),
    case("huge-width-mult", ["Arch.options.width_mult must be a number > 0 and <= 4, got 1000"],
         delta={"Arch": {"options": {"width_mult": 1000}}}),
    case("model-option-wrong-type", ["Arch.options.dropout must be a number >= 0 and < 1, got 'high'"],
         delta={"Arch": {"options": {"dropout": "high"}}}),
    case("huge-vgg-input", ["Arch.options.input_size must be an integer from 8 to 256 or null, got 10000"],
         delta={"Arch": {"name": "vgg16", "options": {"input_size": 10000}}}),
    case("one-class", ["Arch.num_classes must be at least 2", "softmax over one class"],
         delta={"Arch": {"num_classes": 1}}),
    case("too-many-classes", ["Arch.num_classes must be at most 100,000, got 1000000"],
         delta={"Arch": {"num_classes": 1_000_000}}),
    case("seed-too-large", ["Global.seed must be an integer from 0 to 4294967295, got 4294967296"],
         delta={"Global": {"seed": 2 ** 32}}),
    case("seed-negative", ["Global.seed must be an integer from 0 to 4294967295, got -1"],
         delta={"Global": {"seed": -1}}),
    case("unknown-optimizer", ["Optimizer.name must be one of Momentum, SGD, AdamW, got 'Adam'"],
         delta={"Optimizer": {"name": "Adam"}}),
    case("unknown-schedule", ["LR.name must be one of Constant, Cosine, CosineWarmup, Piecewise, got 'Step'"],
         delta={"LR": {"name": "Step"}}),
    case("unknown-dataset", ["Data.dataset must be one of", "got 'imagenet'"], delta={"Data": {"dataset": "imagenet"}}),
    case("unknown-dataset-option", ["Data.options.colour is not an option of the quickstart dataset"],
         delta={"Data": {"options": {"colour": "red"}}}),
    case("dataset-option-misspelt", ["Data.options.image_sise is not an option", "did you mean 'image_size'"],
         delta={"Data": {"options": {"image_sise": 32}}}),
    case("image-size-zero", ["Data.options.image_size must be an integer from 8 to 512, got 0"],
         delta={"Data": {"options": {"image_size": 0}}}),
    case("image-size-huge", ["Data.options.image_size must be an integer from 8 to 512, got 10000"],
         delta={"Data": {"options": {"image_size": 10000}}}),
    case("image-size-wrong-type", ["Data.options.image_size must be an integer from 8 to 512, got '32'"],
         delta={"Data": {"options": {"image_size": "32"}}}),
    case("quickstart-over-memory-budget", ["Data.options: ", "GiB, more than the 1 GiB limit"],
         delta={"Data": {"options": {"num_per_class": 10000, "image_size": 512}}}),
    case("option-for-an-optionless-dataset", ["Data.options.image_size is not an option of the caltech16 dataset",
                                              "(valid: none)"],
         delta={"Data": {"dataset": "caltech16", "options": {"image_size": 32}}}),
    case("unknown-transform", ["Data.train_transforms[0]: unknown transform 'RandomFlip'"],
         delta={"Data": {"train_transforms": [{"RandomFlip": {}}, {"Transpose": {}}, NORM]}}),
    case("unknown-transform-argument", ["Data.eval_transforms[0]: Resize takes no argument 'sise'"],
         delta={"Data": {"eval_transforms": [{"Resize": {"sise": 32}}, {"Transpose": {}}, NORM]}}),
    case("transform-not-one-key", ["Data.train_transforms[0] must be a name or a one-key mapping"],
         delta={"Data": {"train_transforms": [{"Resize": 32, "Transpose": {}}]}}),
    case("transform-fails-on-the-images", ["Data.train_transforms cannot process the first training sample",
                                           "ValueError"],
         delta={"Data": {"train_transforms": [{"RandomCrop": {"size": 64}}, {"Transpose": {}}, NORM]}}),
    case("transforms-leave-uint8", ["Data.eval_transforms gives uint8 samples of shape [32, 32, 3]", "Normalize"],
         delta={"Data": {"eval_transforms": []}}),
    case("transforms-divide-by-zero", ["Data.train_transforms gives samples with NaN/Inf values"],
         delta={"Data": {"train_transforms": [{"Transpose": {}}, {"Normalize": {"mean": [127.5] * 3, "std": [0.0] * 3,
                                                                               "data_format": "CHW"}}]}}),
    case("unknown-trick", ["Arch.tricks: unknown trick 'conv4x4'", "did you mean 'conv3x3'"],
         delta={"Arch": {"tricks": {"conv4x4": "acblock"}}}),
    case("unknown-trick-type", ["Arch.tricks.conv3x3: unknown type 'acb'", "acblock"],
         delta={"Arch": {"tricks": {"conv3x3": "acb"}}}),
    case("classes-do-not-match-data", ["Arch.num_classes=10 but the dataset has 16 classes"],
         delta={"Arch": {"num_classes": 10}}),
    # cross-checks
    case("warmup-without-warmup-schedule", ["LR.warmup_epochs is only used by LR.name=CosineWarmup"],
         delta={"LR": {"name": "Cosine", "warmup_epochs": 1}}),
    case("milestone-after-training", ["LR.milestones [2, 5] must all be below Global.epochs=3"],
         delta={"LR": {"name": "Piecewise", "milestones": [2, 5]}}),
    case("rdrop-with-label-smoothing", ["Loss.rdrop_alpha and Loss.label_smoothing cannot be combined"],
         delta={"Loss": {"rdrop_alpha": 1.0, "label_smoothing": 0.1}}),
    # files the config points at
    case("missing-base", ["_base_ file not found: nowhere.yaml", "looked at"], delta={"_base_": "nowhere.yaml"}),
    case("circular-base", ["circular _base_ chain: a.yaml -> b.yaml -> a.yaml"],
         files={"a.yaml": {"_base_": "b.yaml"}, "b.yaml": {"_base_": "a.yaml"}}, main="a.yaml"),
    case("missing-pretrained", ["Arch.pretrained: checkpoint not found: looked for", "nope.pdparams"],
         delta={"Arch": {"pretrained": "nope.pdparams"}}),
    case("missing-resume", ["no checkpoint at", "gone.pdckpt"],
         delta={"Global": {"resume": "gone.pdckpt"}}),
    case("output-dir-is-a-file", ["Global.output_dir=", "is a file, not a folder"],
         files={"taken": "I am a file"}, o=["Global.output_dir={tmp}/taken"]),
    # -o syntax
    case("override-without-equals", ["override 'Global.epochs' must look like Section.key=value"],
         o=["Global.epochs"]),
    case("override-bad-yaml", ["override 'Global.epochs=[1,': the value '[1,' is not valid YAML"],
         o=["Global.epochs=[1,"]),
    case("override-no-section", ["override 'epochs=3': the key must be Section.key"], o=["epochs=3"]),
    case("override-into-a-number", ["override Global.epochs.x: epochs is not a section"], o=["Global.epochs.x=1"]),
    case("override-unknown-key", ["unknown key 'Data.batchsize'", "did you mean 'batch_size'"],
         o=["Data.batchsize=8"]),
]


def write_case(tmp_path, spec) -> tuple[str, list[str], pathlib.Path]:
    out = tmp_path / "run"
    for name, content in spec["files"].items():
        (tmp_path / name).write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    if spec["text"] is not None:
        (tmp_path / "cfg.yaml").write_text(spec["text"])
    elif spec["main"] == "cfg.yaml":
        cfg = merged(spec["delta"] or {})
        cfg.setdefault("Global", {})["output_dir"] = str(out)
        (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    overrides = [o.replace("{tmp}", str(tmp_path)) for o in spec["o"]]
    args = ["-c", str(tmp_path / spec["main"])]
    for o in overrides:
        args += ["-o", o]
    return args, overrides, out


@pytest.fixture
def no_training(monkeypatch):
    """Any call of Model.fit fails the test: every case must stop before training starts."""
    def fit(*a, **k):
        raise AssertionError("training started")
    monkeypatch.setattr(paddle.Model, "fit", fit)


def test_the_table_has_enough_cases():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("spec, needles", CASES)
def test_bad_config_stops_before_training_with_one_line(tmp_path, capsys, monkeypatch, no_training, spec, needles):
    monkeypatch.chdir(tmp_path)            # relative paths in the cases resolve inside tmp_path
    args, _, out = write_case(tmp_path, spec)
    code = train_main(args)
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in captured.out + captured.err
    assert not out.exists() or not any(out.iterdir())        # nothing was written (the run lock may leave
                                                              # the empty folder), let alone trained
    assert not (tmp_path / "taken").exists() or (tmp_path / "taken").is_file()


def test_the_good_config_passes_the_same_checks(tmp_path, capsys, monkeypatch, no_training):
    """The baseline of the table is valid: it gets as far as training (which the fixture forbids)."""
    monkeypatch.chdir(tmp_path)
    args, _, _ = write_case(tmp_path, dict(delta=None, text=None, files={}, o=[], main="cfg.yaml"))
    with pytest.raises(AssertionError, match="training started"):
        train_main(args)


@pytest.mark.parametrize("text, override, needles", [
    (None, "Arch.tricks={conv4x4: acblock}", ["Arch.tricks: unknown trick 'conv4x4'"]),
    ("Global:\n  epochs: 3\n  epochs: 4\n", None, ["duplicate key 'epochs'"]),
])
def test_bad_config_in_a_real_process(tmp_path, text, override, needles):
    cfg = merged({})
    cfg["Global"]["output_dir"] = str(tmp_path / "run")
    path = tmp_path / "cfg.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(cfg))
    args = [sys.executable, str(ROOT / "tools" / "train.py"), "-c", str(path)] + (["-o", override] if override else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and all(n in errors[0] for n in needles), proc.stderr
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
