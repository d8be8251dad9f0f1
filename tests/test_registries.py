"""Registries: datasets, LR schedules, optimizers and losses are one registration away from a config.

Each extension test registers a new entry inside the test, then uses it through ``load_config`` and the
builder, without touching ``config.py``: the schema's allowed names come from the registries.
"""
import pathlib
import re

import numpy as np
import paddle
import pytest
import yaml

from paddle_tricks.config import ConfigError, load_config
from paddle_tricks.data import DATASETS, build_datasets, register_dataset
from paddle_tricks.losses import LOSSES, build_loss
from paddle_tricks.optim import LR_SCHEDULES, OPTIMIZERS, build_lr_scheduler, build_optimizer
from paddle_tricks.utils.registry import Registry, UnknownNameError
from paddle_tricks.utils.schema import int_range

ROOT = pathlib.Path(__file__).resolve().parents[1]
BASE = {"Global": {"epochs": 2}, "Arch": {"name": "lenet", "num_classes": 4}, "Data": {"dataset": "quickstart"}}


def write_config(tmp_path, **sections):
    cfg = {sec: {**BASE.get(sec, {}), **sections.get(sec, {})} for sec in {*BASE, *sections}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


@pytest.fixture
def temporary():
    """Entries registered by a test, removed afterwards so other tests see the shipped registries."""
    added = []
    yield lambda registry, name: added.append((registry, name))
    for registry, name in added:
        registry.unregister(name)


def test_registry_registers_in_order_and_suggests_the_nearest_name():
    reg = Registry("colour", "see COLOURS")

    @reg.register("red", hex="#f00")
    def red():
        return 1

    reg.register("green")(lambda: 2)
    assert reg.names() == ["red", "green"] and list(reg) == ["red", "green"] and len(reg) == 2
    assert reg.get("red") is red and reg.entry("red").info == {"hex": "#f00"}
    assert reg.names("g*") == ["green"] and "red" in reg and "blue" not in reg
    with pytest.raises(UnknownNameError, match=r"unknown colour 'rde'; did you mean 'red'\? \(see COLOURS\)"):
        reg.get("rde")
    with pytest.raises(KeyError, match="choose from red, green"):  # an UnknownNameError is a KeyError
        reg.get("zzzzzz")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("red")(lambda: 3)
    reg.register("red")(red)  # the same object again is harmless (a module imported twice)


def test_shipped_names_are_the_registries():
    assert DATASETS.names() == ["caltech16", "quickstart", "fashion_mnist", "folder"]
    assert LR_SCHEDULES.names() == ["Constant", "Cosine", "CosineWarmup", "Piecewise"]
    assert OPTIMIZERS.names() == ["Momentum", "SGD", "AdamW"]
    assert LOSSES.names() == ["CrossEntropy"]


def _readme_row(what: str) -> set[str]:
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| {what} |"))
    cell = row.split("|")[2]
    cell = re.sub(r"\([^)]*\)", "", cell).split(";")[0]  # names come before the first ';', notes in brackets
    return set(re.findall(r"`([^`]+)`", cell))


def test_readme_tables_list_exactly_the_registered_schedules_and_optimizers():
    assert _readme_row("LR") == set(LR_SCHEDULES.names())
    assert _readme_row("optimizer") == set(OPTIMIZERS.names())


def test_a_schedule_registered_in_one_place_is_accepted_by_the_config(tmp_path, temporary):
    @LR_SCHEDULES.register("Halving")
    def halving(cfg, steps_per_epoch, epochs):
        return paddle.optimizer.lr.StepDecay(cfg["base_lr"], step_size=steps_per_epoch, gamma=0.5)
    temporary(LR_SCHEDULES, "Halving")

    cfg = load_config(write_config(tmp_path, LR={"name": "Halving", "base_lr": 0.4}))
    sched = build_lr_scheduler(cfg["LR"], steps_per_epoch=3, epochs=2)
    lrs = []
    for _ in range(6):
        lrs.append(sched())
        sched.step()
    assert lrs == pytest.approx([0.4] * 3 + [0.2] * 3)
    with pytest.raises(ConfigError, match="LR.name must be one of Constant, Cosine, CosineWarmup, Piecewise, "
                                          "Halving, got 'Halvng'"):
        load_config(write_config(tmp_path, LR={"name": "Halvng"}))


def test_an_optimizer_and_a_loss_registered_in_one_place_are_used(tmp_path, temporary):
    @OPTIMIZERS.register("Adagrad")
    def adagrad(cfg, learning_rate, decay, no_decay, grad_clip):
        return paddle.optimizer.Adagrad(learning_rate, parameters=decay + no_decay, grad_clip=grad_clip)
    temporary(OPTIMIZERS, "Adagrad")

    @LOSSES.register("MeanSquaredLogits")
    def mean_squared_logits(cfg):
        return lambda logits, label: (logits ** 2).mean()
    temporary(LOSSES, "MeanSquaredLogits")

    cfg = load_config(write_config(tmp_path, Optimizer={"name": "Adagrad"}, Loss={"name": "MeanSquaredLogits"}))
    net = paddle.nn.Linear(2, 3)
    assert isinstance(build_optimizer(cfg["Optimizer"], net, 0.1), paddle.optimizer.Adagrad)
    loss = build_loss(cfg["Loss"])(paddle.full([1, 3], 2.0), paddle.to_tensor([0]))
    assert float(loss) == pytest.approx(4.0)


class _Constant(paddle.io.Dataset):
    classes = ["a", "b"]

    def __init__(self, n, value):
        super().__init__()
        self.n, self.value = n, value

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full([1, 4, 4], self.value, dtype=np.float32), np.array(i % 2, dtype=np.int64)


def test_a_dataset_registered_in_one_place_is_built_with_checked_options(tmp_path, temporary):
    @register_dataset("constant", options={"n": int_range(4, 1, 100, "samples per split")})
    def build_constant(root, options, train_transform, eval_transform, seed):
        return _Constant(options.get("n", 4), 1.0), _Constant(options.get("n", 4), 2.0)
    temporary(DATASETS, "constant")

    cfg = load_config(write_config(tmp_path, Arch={"num_classes": 2},
                                   Data={"dataset": "constant", "options": {"n": 6}}))
    train, evals = build_datasets(cfg["Data"])
    assert len(train) == len(evals) == 6 and float(evals[0][0].max()) == 2.0
    with pytest.raises(ConfigError, match=r"Data.options.n must be an integer from 1 to 100, got 0 "
                                          r"\(the constant dataset\)"):
        load_config(write_config(tmp_path, Data={"dataset": "constant", "options": {"n": 0}}))
    with pytest.raises(ConfigError, match="Data.options.size is not an option of the constant dataset"):
        load_config(write_config(tmp_path, Data={"dataset": "constant", "options": {"size": 3}}))


def test_quickstart_memory_budget_is_checked_before_any_image_is_drawn():
    from paddle_tricks.data.quickstart import ShapesDataset
    with pytest.raises(ValueError, match="GiB, more than the 1 GiB limit"):
        ShapesDataset("train", num_per_class=10_000, image_size=512)   # would be 37 GiB of pixels


def test_seed_at_the_top_of_its_range_runs(tmp_path):
    """Global.seed = 2**32 - 1 is valid, and the seeds derived from it stay in NumPy's range."""
    from paddle_tricks.data import build_loader
    from paddle_tricks.data.quickstart import ShapesDataset
    cfg = load_config(write_config(tmp_path, Global={"seed": 2 ** 32 - 1}))
    seed = cfg["Global"]["seed"]
    data = ShapesDataset("eval", num_per_class=4, image_size=8, seed=seed)
    loader = build_loader(data, 4, train=True, seed=seed)
    loader.epoch_sampler.set_epoch(3)
    assert sorted(i for batch in [list(loader.epoch_sampler)] for i in batch) == list(range(len(data)))
