"""The helpers the notebooks share (``paddle_tricks.utils.notebook``) and the BatchNorm randomiser
(``paddle_tricks.utils.bn``) that the notebooks and the tests use."""
import json
import shutil
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[1]
QUICKSTART_RECORDS = ROOT / "docs" / "results" / "runs" / "quickstart"


def test_page_records_reads_a_page_or_says_it_has_none(tmp_path):
    from paddle_tricks.report.pages import page_block, page_rows, record_folders

    assert notebook.page_records(tmp_path, "quickstart") is None           # no runs/ folder
    shutil.copytree(QUICKSTART_RECORDS, tmp_path / "runs" / "quickstart")
    records = notebook.page_records(tmp_path, "quickstart")
    folders = record_folders(str(tmp_path), "quickstart")
    assert records.folders == folders
    assert records.block == page_block("quickstart", *page_rows(folders, log=lambda *_: None))
    settings = records.settings()
    assert list(settings.index) == [r.label for r in records.rows]
    first = settings.iloc[0]
    assert first["model"].startswith("asymmnet_small width_mult=0.75") and first["input (px)"] == "40"
    assert (first["epochs"], first["batch"], first["seed"]) == (10, 64, 42)
    assert first["optimizer"] == "Momentum 0.9, weight decay 5e-05"
    assert first["LR"] == "CosineWarmup 0.1, warm-up 1 epochs" and first["EMA"] == "on (decay 0.99)"


def test_page_records_show_displays_settings_curves_and_the_exact_block(tmp_path, monkeypatch):
    import IPython.display
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd

    matplotlib.use("Agg")
    shown, figures = [], []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    shutil.copytree(QUICKSTART_RECORDS, tmp_path / "runs" / "quickstart")
    records = notebook.page_records(tmp_path, "quickstart")
    records.show(title="quickstart records")
    assert isinstance(shown[0], pd.DataFrame) and list(shown[0].index) == [r.label for r in records.rows]
    assert shown[1].data == records.block and len(shown) == 2
    assert len(figures) == 1 and figures[0].axes[0].get_title() == "quickstart records"
    plt.close("all")


def test_settings_table_says_ema_off_and_plain_sgd():
    from paddle_tricks.config import load_config
    cfg = load_config(str(ROOT / "configs" / "fashion_mnist" / "lenet.yaml"))
    row = notebook.settings_table({"lenet": cfg}).loc["lenet"]
    assert row["EMA"] == "off" and row["optimizer"].startswith("SGD, weight decay") and row["input (px)"] == "28"
    assert row["LR"].startswith("Constant ")


def _row(label, model, final, ema=None, status="finished", madds=None):
    from paddle_tricks.report.compare import RunSummary
    return RunSummary(label=label, path=label, status=status, model=model, final_top1=final, ema_final_top1=ema,
                      madds=madds, epochs_done=30 if status == "finished" else 12, epochs_planned=30,
                      curve=[[1, final / 2], [2, final]])


def test_comparison_lines_pair_models_and_recipes_of_one_seed():
    rows = [_row("asymmnet_large_112_s42", "asymmnet_large", 0.85, madds=60e6),
            _row("asymmnet_large_112_improved_s42", "asymmnet_large", 0.88, ema=0.89, status="unfinished"),
            _row("mobilenet_v2_112_s42", "mobilenet_v2", 0.75, madds=81e6),
            _row("mobilenet_v2_112_s1", "mobilenet_v2", 0.70),          # no AsymmNet of seed 1: no pair
            _row("other_run", "asymmnet_small", 0.5)]                   # not <configuration>_s<seed>: left out
    assert notebook.comparison_lines(rows) == [
        "tutorial recipe, seed 42: asymmnet_large 85.0% vs mobilenet_v2 75.0% (+10.0 points); "
        "60.0 M vs 81.0 M MAdds",
        "asymmnet_large, seed 42: improved recipe 88.0% (EMA 89.0%) (unfinished, 12/30 epochs) vs tutorial recipe "
        "85.0% (+3.0 points)"]
    assert notebook.comparison_lines(rows[:1]) == []


def test_plot_record_curves_draws_ema_dashed_in_the_run_colour():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [_row("a_s1", "m", 0.8), _row("b_s1", "m", 0.6, status="unfinished")]
    fig = notebook.plot_record_curves(rows, [{1: 0.5, 2: 0.82}, {}], title="t")
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["a_s1", "a_s1, EMA", "b_s1 (unfinished, 12/30 epochs)"]
    assert [ln.get_linestyle() for ln in lines] == ["-", "--", "-"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert list(lines[1].get_ydata()) == [50.0, 82.0]
    plt.close(fig)
