"""The helpers the notebooks share (``paddle_tricks.utils.notebook``) and the BatchNorm randomiser
(``paddle_tricks.utils.bn``) that the notebooks and the tests use."""
import json

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.utils import notebook
from paddle_tricks.utils.bn import randomise_bn


def _bn_state(bn):
    return [t.numpy().copy() for t in (bn._mean, bn._variance, bn.weight, bn.bias)]


def test_randomise_bn_sets_every_batchnorm_within_its_ranges():
    net = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8), nn.Sequential(nn.BatchNorm2D(16)))
    assert randomise_bn(net) is net
    for bn in (net[1], net[2][0]):
        mean, var, weight, bias = _bn_state(bn)
        assert np.all((-0.5 <= mean) & (mean <= 0.5)) and np.ptp(mean) > 0
        assert np.all((0.2 <= var) & (var <= 2.0)) and np.ptp(var) > 0
        assert np.all((0.3 <= weight) & (weight <= 1.5)) and np.ptp(weight) > 0
        assert np.all((-0.5 <= bias) & (bias <= 0.5)) and np.ptp(bias) > 0


def test_randomised_bn_is_no_longer_the_identity_and_is_repeatable():
    x = paddle.randn([2, 4, 3, 3])
    bn = nn.BatchNorm2D(4)
    bn.eval()
    assert np.allclose(bn(x).numpy(), x.numpy(), atol=1e-4)      # fresh: nearly the identity
    paddle.seed(7)
    randomise_bn(bn)
    first = _bn_state(bn)
    assert not np.allclose(bn(x).numpy(), x.numpy(), atol=1e-2)
    paddle.seed(7)
    randomise_bn(bn)
    assert all(np.array_equal(a, b) for a, b in zip(first, _bn_state(bn)))


def test_randomise_bn_keeps_a_batchnorm_without_affine_parameters_without_them():
    bn = nn.BatchNorm2D(3, weight_attr=False, bias_attr=False)
    randomise_bn(bn)
    assert bn.weight is None and bn.bias is None and np.ptp(bn._variance.numpy()) > 0


def test_start_notebook_reports_smoke_mode(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(notebook.SMOKE_ENV, "1")
    assert notebook.start_notebook(tmp_path) is True
    line = capsys.readouterr().out
    assert line.startswith("smoke mode: on |") and "from the installed package" in line
    monkeypatch.setenv(notebook.SMOKE_ENV, "0")
    import paddle_tricks
    from pathlib import Path
    assert notebook.start_notebook(Path(paddle_tricks.__file__).parents[1]) is False
    line = capsys.readouterr().out
    assert line.startswith("smoke mode: off |") and "from this repository" in line


def _fashion_mnist_folder(path):
    path.mkdir(parents=True)
    (path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    return path


def test_find_data_looks_at_the_variable_then_data_then_shared(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.delenv("PADDLE_TRICKS_FASHION_MNIST", raising=False)
    monkeypatch.delenv("PADDLE_TRICKS_SHARED", raising=False)
    assert notebook.find_data("fashion-mnist", root) is None
    shared = _fashion_mnist_folder(tmp_path / "shared" / "data" / "fashion-mnist")   # beside the repository
    assert notebook.find_data("fashion-mnist", root) == str(shared)
    local = _fashion_mnist_folder(root / "data" / "fashion-mnist")
    assert notebook.find_data("fashion-mnist", root) == str(local)
    chosen = _fashion_mnist_folder(tmp_path / "elsewhere")
    monkeypatch.setenv("PADDLE_TRICKS_FASHION_MNIST", str(chosen))
    assert notebook.find_data("fashion-mnist", root) == str(chosen)


def test_find_data_skips_a_folder_without_the_data_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("PADDLE_TRICKS_CALTECH101", raising=False)
    other_shared = tmp_path / "other"
    monkeypatch.setenv("PADDLE_TRICKS_SHARED", str(other_shared))
    (tmp_path / "repo" / "data" / "caltech101").mkdir(parents=True)     # exists, but holds no class folders
    said = []
    assert notebook.find_data("caltech101", tmp_path / "repo", log=said.append) is None
    assert len(said) == 1 and said[0].startswith("skipping ") and "caltech101" in said[0]
    with pytest.raises(KeyError, match="unknown data set 'mnist'"):
        notebook.find_data("mnist", tmp_path)


def test_run_history_reads_metrics_jsonl_by_epoch(tmp_path):
    records = [{"epoch": 1, "train_loss": 2.0, "eval_top1": 0.25, "time": 1.0},
               {"epoch": 2, "train_loss": 1.5, "eval_top1": 0.5, "time": 1.0},
               {"epoch": 2, "train_loss": 1.4, "eval_top1": 0.55, "time": 1.1}]      # epoch 2 again after a resume
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    history = notebook.run_history(str(tmp_path))
    assert list(history.index) == [1, 2] and history.index.name == "epoch"
    assert history.loc[2, "eval_top1"] == 0.55
    (tmp_path / "metrics.jsonl").write_text("")
    assert notebook.run_history(str(tmp_path)).empty


def test_show_markdown_file_points_relative_links_at_its_folder(tmp_path, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    page = tmp_path / "docs" / "results" / "page.md"
    page.parent.mkdir(parents=True)
    page.write_text("![curve](plots/a.png) [site](https://x.org/a) [top](#top) [abs](/etc/x)\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert notebook.show_markdown_file(page) is True
    assert shown == ["![curve](../docs/results/plots/a.png) [site](https://x.org/a) [top](#top) [abs](/etc/x)\n"]
    said = []
    assert notebook.show_markdown_file(tmp_path / "missing.md", log=said.append) is False
    assert said == ["missing.md has not been written yet"]
