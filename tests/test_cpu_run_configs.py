"""The CPU-size configs of the long runs: each is its full-size config with only the input size changed, its header
states the last conv map its network has at that size, and that map is at least 2x2 unless the header gives the
size a 2x2 map would need and why that size was not taken."""
import os
import pathlib
import re

import paddle
import pytest

from paddle_tricks.ablate import discover_variants
from paddle_tricks.config import load_config
from paddle_tricks.models import build_network
from paddle_tricks.report.runs import eval_input_size

ROOT = pathlib.Path(__file__).resolve().parents[1] / "configs"
FASHION_CPU = sorted((ROOT / "fashion_mnist" / "cpu").glob("*.yaml"))
ARTICLE_NETS = {"alexnet", "vgg11_small", "nin", "googlenet", "resnet18", "densenet"}  # LeNet/-BN run at 28 px


def without_size(cfg: dict) -> dict:
    """The config with what an input size sets left out (transforms, Arch.options.input_size, output folder)."""
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.items()}
    cfg["Data"] = {k: v for k, v in cfg["Data"].items() if k not in ("train_transforms", "eval_transforms",
                                                                        "num_workers")}
    cfg["Arch"]["options"] = {k: v for k, v in (cfg["Arch"].get("options") or {}).items() if k != "input_size"}
    cfg["Global"] = {k: v for k, v in cfg["Global"].items() if k != "output_dir"}
    return cfg


def last_conv_map(net, channels: int, size: int) -> list[int]:
    """Height and width of the last Conv2D output of one forward pass (forward hooks)."""
    shapes = []
    hooks = [layer.register_forward_post_hook(lambda _l, _i, out: shapes.append(list(out.shape[2:])))
             for layer in net.sublayers() if isinstance(layer, paddle.nn.Conv2D)]
    net.eval()
    with paddle.no_grad():
        net(paddle.rand([1, channels, size, size]))
    for h in hooks:
        h.remove()
    return shapes[-1]


def test_every_article_net_has_a_cpu_config():
    assert {p.stem.rsplit("_", 1)[0] for p in FASHION_CPU} == ARTICLE_NETS


def stated_last_stage(path: pathlib.Path) -> int:
    """The side of the last conv map a config's header states (``# Last conv stage: 2x2 here ...``)."""
    found = re.search(r"^# Last conv stage: (\d+)x\1 here", path.read_text(), re.M)
    assert found, f"{path.name}: no '# Last conv stage: NxN here' line"
    return int(found.group(1))


@pytest.mark.parametrize("path", FASHION_CPU, ids=lambda p: p.stem)
def test_fashion_mnist_cpu_config_is_the_article_recipe_at_a_smaller_size(path):
    size = int(path.stem.rsplit("_", 1)[1])
    cpu = load_config(str(path))
    article = load_config(str(ROOT / "fashion_mnist" / f"{path.stem.rsplit('_', 1)[0]}.yaml"))
    assert without_size(cpu) == without_size(article)  # same model options, batch, optimizer, lr, epochs
    assert eval_input_size(cpu) == (size, size) and size < eval_input_size(article)[0]
    assert [list(t) for t in cpu["Data"]["train_transforms"]] == [list(t) for t in cpu["Data"]["eval_transforms"]]
    assert last_conv_map(build_network(cpu), 1, size) == [stated_last_stage(path)] * 2
    assert stated_last_stage(path) >= 2 or "sees a 2x2 map only from" in path.read_text()


CALTECH_CPU = ROOT / "caltech16" / "cpu"


@pytest.mark.parametrize("model", ["asymmnet_large", "mobilenet_v2"])
def test_caltech16_improved_cpu_config_differs_from_the_gpu_one_only_in_size(model):
    cpu = load_config(str(CALTECH_CPU / f"{model}_112_improved.yaml"))
    gpu = load_config(str(ROOT / "caltech16" / f"{model}_improved.yaml"))
    tutorial = load_config(str(CALTECH_CPU / f"{model}_112.yaml"))
    assert without_size(cpu) == {**without_size(gpu), "Global": {**without_size(gpu)["Global"], "epochs": 30}}
    assert eval_input_size(cpu) == eval_input_size(tutorial) == (112, 112)
    assert cpu["Global"]["epochs"] == tutorial["Global"]["epochs"] == 30 and cpu["EMA"]["enable"]
    assert cpu["Data"]["train_transforms"][0] == {"RandomResizedCrop": {"size": 112, "scale": [0.35, 1.0]}}


def test_caltech16_ablation_variants_are_one_trick_each_at_the_base_size():
    base = str(CALTECH_CPU / "ablation" / "base_resnet18_96.yaml")
    variants = {v.name: v.config for v in discover_variants(base)}
    assert set(variants) == {"acblock", "blurpool", "acon_c", "se", "dropblock", "spconv"}
    base_cfg = load_config(base)
    size = eval_input_size(base_cfg)[0]
    assert size == 96 and min(last_conv_map(build_network(base_cfg), 3, size)) >= 2
    for name, path in variants.items():
        cfg = load_config(path)
        tricks = dict(cfg["Arch"].pop("tricks"))
        assert tricks.pop("input_size") == size and len(tricks) == 1, name
        base_arch = dict(base_cfg["Arch"])
        base_arch.pop("tricks")
        assert cfg["Arch"] == base_arch and {k: v for k, v in cfg.items() if k != "Arch"} == \
            {k: v for k, v in base_cfg.items() if k != "Arch"}, name
        assert os.path.basename(path) == f"{name}.yaml"
