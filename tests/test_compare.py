"""tools/compare.py: table values read back from real tiny runs, unfinished/unreadable runs, plots, latency."""
import json
import os
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from paddle_tricks.config import validate
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.models import build_network
from paddle_tricks.cli.compare import compare_main
from paddle_tricks.report.compare import compare_runs, markdown_table
from paddle_tricks.report.runs import NotARunError, eval_input_size, read_run, trick_summary
from paddle_tricks.utils.complexity import count_madds, count_params

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def tiny_cfg(out, epochs, **sections):
    cfg = {
        "Global": {"output_dir": str(out), "epochs": epochs, "seed": 7, "verbose": 0},
        "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35, "dropout": 0.2}},
        "Data": {"dataset": "quickstart", "batch_size": 16,
                 "options": {"num_per_class": 3, "eval_per_class": 1, "image_size": 32},
                 "train_transforms": [{"RandomHorizontalFlip": {}}, {"Transpose": {}}, NORM],
                 "eval_transforms": [{"Transpose": {}}, NORM]},
        "LR": {"name": "Cosine", "base_lr": 0.05},
        "VisualDL": {"enable": False},
    }
    for sec, val in sections.items():
        cfg.setdefault(sec, {}).update(val)
    return validate(cfg)


def records(run_dir):
    return [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished tiny runs, an unfinished copy with a corrupt line, a run without metrics, a non-run."""
    root = tmp_path_factory.mktemp("runs")
    a = root / "ema_run"
    Trainer(tiny_cfg(a, 2, EMA={"enable": True, "decay": 0.9}), log=lambda *_: None).fit()
    b = root / "trick_run"
    Trainer(tiny_cfg(b, 1, Arch={"tricks": {"act": "relu", "input_size": 32}}, Loss={"rdrop_alpha": 0.3}),
            log=lambda *_: None).fit()
    c = root / "unfinished"
    c.mkdir()
    shutil.copy(a / "config.yaml", c / "config.yaml")
    first = (a / "metrics.jsonl").read_text().splitlines()[0]
    (c / "metrics.jsonl").write_text(first + "\n{\"epoch\": 2, \"eval_to\n")  # a half-written second line
    d = root / "no_metrics"
    d.mkdir()
    shutil.copy(a / "config.yaml", d / "config.yaml")
    e = root / "not_a_run"
    e.mkdir()
    (e / "notes.txt").write_text("hello")
    return {"a": str(a), "b": str(b), "c": str(c), "d": str(d), "e": str(e), "root": root}


def test_table_values_come_from_the_metrics(runs, tmp_path):
    out = tmp_path / "report"
    paths = [runs[k] for k in "abcde"]
    rep = compare_runs(paths, str(out), latency=False, log=lambda *_: None)
    assert [r.label for r in rep.rows] == ["ema_run", "trick_run", "unfinished", "no_metrics"]
    assert len(rep.skipped) == 1 and "not a run folder" in rep.skipped[0] and runs["e"] in rep.skipped[0]
    ra, rb, rc, rd = rep.rows

    recs = records(runs["a"])
    tops = [r["eval_top1"] for r in recs]
    assert ra.status == "finished" and ra.epochs_done == 2 and ra.epochs_planned == 2
    assert ra.best_top1 == max(tops) and ra.best_epoch == 1 + tops.index(max(tops))
    assert ra.final_top1 == tops[-1] and ra.final_topk == recs[-1]["eval_top5"] and ra.topk == 5
    assert ra.ema_best_top1 == max(r["ema_top1"] for r in recs)
    assert ra.train_seconds == pytest.approx(sum(r["time"] for r in recs))
    assert ra.curve == [[r["epoch"], r["eval_top1"]] for r in recs]
    assert ra.model == "asymmnet_small x0.35" and ra.tricks == "-" and ra.seed == 7

    recb = records(runs["b"])
    assert rb.best_top1 == recb[0]["eval_top1"] and rb.ema_best_top1 is None and rb.epochs_done == 1
    assert rb.tricks == "act=relu, rdrop(alpha=0.3)"

    # complexity: the run's own network at the eval size (32 px from the quickstart image_size)
    cfg = read_run(runs["a"]).config
    net = build_network(cfg)
    assert ra.params == count_params(net) and ra.input_hw == [32, 32]
    assert ra.madds == count_madds(net, (1, 3, 32, 32)) < count_madds(net, (1, 3, 64, 64))

    # unfinished: the readable first epoch is kept, the broken line reported
    assert rc.status == "unfinished" and rc.epochs_done == 1 and rc.best_top1 == recs[0]["eval_top1"]
    assert any("unreadable line" in n for n in rc.notes) and any("1 of 2 epochs" in n for n in rc.notes)
    assert rd.status == "no metrics" and rd.best_top1 is None and rd.params == ra.params

    md = (out / "compare.md").read_text()
    table = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert len(table) == 5  # header + 4 runs
    cells = [c.strip() for c in table[1].strip("|").split("|")]
    assert cells[3] == f"{100 * ra.best_top1:.2f} ({ra.best_epoch})"
    assert cells[4] == f"{100 * tops[-1]:.2f}" and cells[5] == f"{100 * recs[-1]['eval_top5']:.2f}"
    assert cells[-2] == "2/2" and cells[-1] == "quickstart"
    assert table[3].rstrip(" |").endswith("1/2 (unfinished) | quickstart")
    assert table[4].rstrip(" |").endswith("0/2 (no metrics) | quickstart")
    assert "not a run folder" in md and "unreadable line" in md
    summary = json.loads((out / "summary.json").read_text())
    assert [r["best_top1"] for r in summary["rows"]] == [r.best_top1 for r in rep.rows]

    for name in ("top1_per_epoch.png", "top1_vs_madds.png"):
        with Image.open(out / name) as im:
            assert im.format == "PNG" and im.size[0] > 400 and im.size[1] > 300
            im.verify()
        with Image.open(out / name) as im:  # not a blank canvas
            assert np.asarray(im.convert("L")).std() > 5


def test_latency_of_the_exported_model(runs, tmp_path):
    rep = compare_runs([runs["a"], runs["b"]], str(tmp_path), latency=True, repeats=5, log=lambda *_: None)
    for r in rep.rows:
        assert r.latency_backend == "paddle.inference"
        assert 0 < r.latency_p10_ms <= r.latency_ms <= r.latency_p90_ms
        assert os.path.isfile(tmp_path / "export" / r.label / "model.pdiparams")
    # MAdds are counted on the deploy form: BN folding does not change them
    assert rep.rows[0].madds == count_madds(build_network(read_run(runs["a"]).config), (1, 3, 32, 32))
    assert "CPU latency: batch 1, median of 5 runs" in rep.markdown


def test_cli(runs, tmp_path, capsys):
    assert compare_main([runs["a"], runs["e"], "--out", str(tmp_path / "o"), "--no-latency",
                         "--input-size", "48"]) == 0
    out = capsys.readouterr().out
    assert "| ema_run |" in out and "(48px)" in out and "skipped" in out
    # only non-runs: one clear error line, exit code 2
    assert compare_main([runs["e"], str(tmp_path / "missing"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "error: no run folder to compare" in err and "no such folder" in err and "Traceback" not in err
    # a folder of runs: the message names them
    with pytest.raises(NotARunError, match="holds run folders .*ema_run"):
        read_run(str(runs["root"]))


def test_eval_input_size_and_trick_summary():
    size = lambda ts, **data: eval_input_size({"Data": {"eval_transforms": ts, **data}})  # noqa: E731
    assert size([{"Resize": {"size": [256, 256]}}, {"CenterCrop": {"size": 224}}, "Transpose"]) == (224, 224)
    assert size([{"Resize": {"size": 112}}]) == (112, 112)
    assert size([{"Resize": {"size": [96, 128]}}]) == (96, 128)
    assert size([], options={"image_size": 40}) == (40, 40)
    assert size([], dataset="fashion_mnist") == (28, 28)
    assert size([], dataset="folder") is None
    assert trick_summary({"Arch": {"tricks": {}}, "Loss": {"rdrop_alpha": 0.0}}) == "-"
    assert trick_summary({"Arch": {"tricks": {"conv3x3": {"type": "spconv", "ratio": 0.5}, "input_size": 40,
                                              "act": None}}}) == "conv3x3=spconv(ratio=0.5)"
    assert trick_summary({"Arch": {"tricks": {"drop_block": {"block_size": 3}, "dropout": 0.2}},
                          "Loss": {"rdrop_alpha": 0.3}}) == "drop_block(block_size=3), dropout=0.2, rdrop(alpha=0.3)"


def test_markdown_table_marks_mixed_topk():
    from paddle_tricks.report.compare import RunSummary
    rows = [RunSummary("x", "x", "finished", final_topk=0.5, topk=5, epochs_done=1, epochs_planned=1),
            RunSummary("y", "y", "finished", final_topk=0.25, topk=3, epochs_done=1, epochs_planned=1)]
    md = markdown_table(rows)
    assert "Top-k final" in md and "50.00 (top-5)" in md and "25.00 (top-3)" in md


def test_resumed_run_keeps_last_record_of_an_epoch(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "config.yaml").write_text(yaml.safe_dump(dict(tiny_cfg(d, 2))))
    lines = [{"epoch": 1, "eval_top1": 0.1, "time": 1.0}, {"epoch": 1, "eval_top1": 0.3, "time": 2.0},
             {"epoch": 2, "eval_top1": 0.2, "time": 3.0}]
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    run = read_run(str(d))
    assert [r["eval_top1"] for r in run.records] == [0.3, 0.2] and run.finished and not run.problems


def test_madds_are_those_of_the_deploy_form(tmp_path, capsys):
    """ACBlock adds 1x3/3x1 branches while training; the deployed (fused) net costs what the plain net costs.
    Rebuilding a run's network for its row prints nothing (the trick lines belong to the run's own log)."""
    for name, tricks in (("plain", {}), ("acb", {"conv3x3": "acblock", "input_size": 32})):
        d = tmp_path / name
        d.mkdir()
        (d / "config.yaml").write_text(yaml.safe_dump(dict(tiny_cfg(d, 1, Arch={"tricks": tricks}))))
        (d / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "eval_top1": 0.5, "time": 1.0}) + "\n")
    rep = compare_runs([str(tmp_path / "plain"), str(tmp_path / "acb")], str(tmp_path / "out"), latency=False,
                       log=lambda *_: None)
    plain, acb = rep.rows
    out, err = capsys.readouterr()
    assert "converted" not in out + err
    train_form = count_madds(build_network(read_run(str(tmp_path / "acb")).config), (1, 3, 32, 32))
    assert acb.madds == plain.madds < train_form
    assert acb.params > plain.params  # parameters are those of the network as trained
    assert acb.tricks == "conv3x3=acblock"


def test_common_epoch_of_runs_at_different_stages():
    from paddle_tricks.report.compare import RunSummary, common_epoch
    a = RunSummary("a", "a", "unfinished", curve=[[1, 0.1], [2, 0.2], [3, 0.3]])
    b = RunSummary("b", "b", "unfinished", curve=[[1, 0.15], [2, 0.25]])
    c = RunSummary("c", "c", "no metrics")
    assert common_epoch([a, b, c]) == (2, {"a": 0.2, "b": 0.25})
    assert common_epoch([a, a]) is None and common_epoch([a, c]) is None


def test_a_run_that_evaluated_only_its_ema_fills_the_ema_columns(runs, tmp_path):
    """``Global.eval_weights: ema`` writes ``ema_top1`` without ``eval_top1``: the row keeps the EMA figures and
    leaves the raw ones empty (it was read as a run with no evaluated epoch)."""
    run = tmp_path / "ema_only"
    run.mkdir()
    shutil.copy(os.path.join(runs["a"], "config.yaml"), run / "config.yaml")
    recs = records(runs["a"])
    for r in recs:
        r.pop("eval_top1")
        r.pop("eval_top5", None)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    row = compare_runs([str(run)], str(tmp_path / "report"), latency=False, log=lambda *_: None).rows[0]
    assert row.best_top1 is None and row.final_top1 is None and row.curve == []
    assert row.ema_best_top1 == max(r["ema_top1"] for r in recs) and row.ema_final_top1 == recs[-1]["ema_top1"]
    assert not any("no evaluated epoch" in n for n in row.notes)
