"""configs/fashion_mnist/: the d2l article's recipes load, build, run on real Fashion-MNIST and train."""
import functools
import json
import math
import pathlib

import numpy as np
import paddle
import paddle.nn as nn
import pytest
from PIL import Image

from paddle_tricks.config import load_config
from paddle_tricks.data.fashion_mnist import FashionMNIST
from paddle_tricks.data.transforms import build_transforms
from paddle_tricks.engine import run_files
from paddle_tricks.engine.checkpoint import load_file
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.models import build_network

CONFIGS = pathlib.Path(__file__).resolve().parents[1] / "configs" / "fashion_mnist"

# The article's settings per config file: (model, input size, batch size, learning rate)
ARTICLE = {
    "lenet": ("lenet", 28, 256, 0.9),
    "lenet_bn": ("lenet_bn", 28, 256, 1.0),
    "alexnet": ("alexnet", 224, 128, 0.01),
    "vgg11_small": ("vgg11_small", 224, 128, 0.05),
    "nin": ("nin", 224, 128, 0.1),
    "googlenet": ("googlenet", 96, 128, 0.1),
    "resnet18": ("resnet18_d2l", 96, 256, 0.05),
    "densenet": ("densenet_d2l", 96, 256, 0.1),
}


def test_every_config_is_listed():
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml") if not p.stem.startswith("_")) == sorted(ARTICLE)


@pytest.mark.parametrize("name", sorted(ARTICLE))
def test_config_has_the_article_recipe(name):
    cfg = load_config(str(CONFIGS / f"{name}.yaml"))
    model, _, batch, lr = ARTICLE[name]
    assert cfg["Arch"]["name"] == model and cfg["Arch"]["num_classes"] == 10
    assert cfg["Arch"]["options"].get("init", "xavier") == "xavier"
    assert cfg["Global"]["epochs"] == 10
    assert cfg["Global"]["output_dir"] == f"output/fashion_mnist/{name}"
    assert cfg["Data"]["dataset"] == "fashion_mnist" and cfg["Data"]["root"] == "data/fashion-mnist"
    assert cfg["Data"]["batch_size"] == batch and cfg["Data"]["eval_batch_size"] is None
    assert cfg["Optimizer"]["name"] == "SGD" and cfg["Optimizer"]["weight_decay"] == 0.0
    assert cfg["LR"]["name"] == "Constant" and cfg["LR"]["base_lr"] == lr
    assert cfg["Loss"]["label_smoothing"] == 0.0 and not cfg["EMA"]["enable"]


@functools.lru_cache(maxsize=1)
def _first_test_images(root: str):
    ds = FashionMNIST(root, "test")
    return ds.images[:2]


def _xavier_bound(shape) -> float:
    """Xavier-uniform bound; Conv2D weights are (out, in, kh, kw), Linear weights (in, out)."""
    shape = [int(d) for d in shape]
    if len(shape) == 4:
        fan_in, fan_out = shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]
    else:
        fan_in, fan_out = shape
    return math.sqrt(6.0 / (fan_in + fan_out))


@pytest.mark.parametrize("name", sorted(ARTICLE))
def test_config_runs_on_real_images(name, fashion_mnist_root):
    cfg = load_config(str(CONFIGS / f"{name}.yaml"), [f"Data.root={fashion_mnist_root}"])
    size = ARTICLE[name][1]
    images = _first_test_images(str(fashion_mnist_root))
    batches = {}
    for which in ("train_transforms", "eval_transforms"):
        t = build_transforms(cfg["Data"][which])
        xs = [t(Image.fromarray(img, mode="L")) for img in images]
        for img, x in zip(images, xs):
            assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (1, size, size)
            # d2l's pipeline: (bilinear) resize of the 8-bit image, then pixels / 255, no mean/std
            ref = np.asarray(Image.fromarray(img, mode="L").resize((size, size), Image.BILINEAR), np.float32)
            np.testing.assert_allclose(x[0], ref / 255.0, atol=1e-6)
        batches[which] = np.stack(xs)
    np.testing.assert_array_equal(batches["train_transforms"], batches["eval_transforms"])  # no augmentation

    paddle.seed(0)
    net = build_network(cfg)
    net.eval()
    with paddle.no_grad():
        out = net(paddle.to_tensor(batches["eval_transforms"]))
    assert tuple(out.shape) == (2, 10)
    assert np.isfinite(out.numpy()).all()
    # Xavier-uniform conv/linear weights, as d2l's training loop sets them
    for layer in net.sublayers():
        if isinstance(layer, (nn.Conv2D, nn.Linear)) and int(np.prod(layer.weight.shape)) >= 100:
            bound = _xavier_bound(layer.weight.shape)
            m = float(layer.weight.abs().max())
            assert 0.8 * bound < m <= bound * (1 + 1e-6), (name, layer.weight.shape, m, bound)


def test_lenet_trains_one_short_epoch(fashion_mnist_root, tmp_path):
    cfg = load_config(str(CONFIGS / "lenet.yaml"), [
        f"Data.root={fashion_mnist_root}", "Data.limit_train=512", "Data.limit_eval=200", "Global.epochs=1",
        "Global.verbose=0", f"Global.output_dir={tmp_path}", "VisualDL.enable=false"])
    trainer = Trainer(cfg, log=lambda *_: None)
    assert trainer.steps_per_epoch == 2  # 512 images in batches of 256
    init = {k: v.numpy().copy() for k, v in trainer.network.state_dict().items()}
    summary = trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["epoch"] == 1 and summary["epochs"] == 1
    rec = records[0]
    assert rec["lr"] == pytest.approx(0.9) and math.isfinite(rec["train_loss"])
    # plain SGD moved every weight away from the initialisation
    state = load_file(str(tmp_path / run_files.BEST))
    assert all(not np.array_equal(init[k], state[k]) for k in init)
    # the recorded test accuracy is the accuracy of the saved weights on the 200 sampled test images
    net = build_network(cfg)
    net.set_state_dict(state)
    net.eval()
    from paddle_tricks.data.build import build_datasets
    _, eval_set = build_datasets(cfg["Data"])
    xs = np.stack([eval_set[i][0] for i in range(len(eval_set))])
    ys = np.array([int(eval_set[i][1]) for i in range(len(eval_set))])
    assert len(ys) == 200
    with paddle.no_grad():
        pred = net(paddle.to_tensor(xs)).numpy().argmax(1)
    assert rec["eval_top1"] == pytest.approx(float((pred == ys).mean()), abs=1e-6)
