"""paddle-tricks publish / report: run records copied without weights, page tables regenerated from them."""
import json
import os
import shutil

import pytest

from paddle_tricks.cli import main
from paddle_tricks.config import validate
from paddle_tricks.engine import run_files
from paddle_tricks.engine.trainer import Trainer
from paddle_tricks.report.pages import markers, record_folders, regenerate_page
from paddle_tricks.report.publish import RECORD_FILES, SUMMARY, publish_run
from paddle_tricks.report.runs import is_run_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def tiny_run(out, epochs, seed, ema=False):
    cfg = validate({
        "Global": {"output_dir": str(out), "epochs": epochs, "seed": seed, "verbose": 0},
        "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
        "Data": {"dataset": "quickstart", "batch_size": 16,
                 "options": {"num_per_class": 3, "eval_per_class": 1, "image_size": 32},
                 "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
        "LR": {"name": "Cosine", "base_lr": 0.05},
        "EMA": {"enable": ema, "decay": 0.9},
        "VisualDL": {"enable": False},
    })
    Trainer(cfg, log=lambda *_: None).fit()
    return str(out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {"a": tiny_run(root / "net_s0", 2, 0, ema=True), "b": tiny_run(root / "net_s1", 1, 1)}


def metrics(path):
    with open(os.path.join(path, run_files.METRICS), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def page_with_markers(folder, page, before="# Page\n\nHand-written text.\n\n", after="\nMore text.\n"):
    begin, end = markers(page)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{page}.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{before}{begin}\nstale table\n{end}\n{after}")
    return path


def test_publish_copies_the_text_record_and_a_true_summary(runs, tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    done = publish_run(runs["a"], str(results), "demo", command="bash x.sh", log=lambda *_: None)
    assert done.action == "created" and done.status == "finished"
    assert done.path == os.path.join(str(results), "runs", "demo", "net_s0")
    assert os.path.isfile(os.path.join(runs["a"], run_files.BEST))  # the run has weights...
    copied = sorted(os.listdir(done.path))
    assert copied == sorted([f for f in RECORD_FILES if os.path.isfile(os.path.join(runs["a"], f))] + [SUMMARY])
    assert not any(f.endswith((".safetensors", ".pdparams", ".pdckpt")) for f in copied)  # ...the record has none
    for f in (run_files.CONFIG, run_files.METRICS, run_files.BEST_JSON):
        with open(os.path.join(runs["a"], f), "rb") as x, open(os.path.join(done.path, f), "rb") as y:
            assert x.read() == y.read()
    with open(os.path.join(done.path, SUMMARY), encoding="utf-8") as f:
        summary = json.load(f)
    recs = metrics(runs["a"])
    tops = [r["eval_top1"] for r in recs]
    assert summary["best_top1"] == max(tops) and summary["final_top1"] == tops[-1]
    assert summary["ema_best_top1"] == max(r["ema_top1"] for r in recs)
    assert summary["epochs_done"] == summary["epochs_planned"] == 2 and summary["seed"] == 0
    assert summary["train_seconds"] == pytest.approx(sum(r["time"] for r in recs))
    assert summary["params"] > 0 and summary["madds"] > 0 and summary["command"] == "bash x.sh"
    assert summary["machine"] and summary["published"]


def test_publish_refuses_another_record_but_takes_the_same_run_grown(runs, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    partial = tmp_path / "partial" / "net"
    partial.mkdir(parents=True)
    shutil.copy(os.path.join(runs["a"], run_files.CONFIG), partial / run_files.CONFIG)
    with open(os.path.join(runs["a"], run_files.METRICS), encoding="utf-8") as f:
        (partial / run_files.METRICS).write_text(f.readline())
    assert publish_run(str(partial), str(results), "p", log=lambda *_: None).status == "unfinished"
    grown = tmp_path / "grown" / "net"
    shutil.copytree(runs["a"], grown)
    assert publish_run(str(grown), str(results), "p", log=lambda *_: None).action == "updated"
    assert publish_run(str(grown), str(results), "p", log=lambda *_: None).action == "unchanged"
    record = os.path.join(str(results), "runs", "p", "net")
    before = metrics(record)

    code = main(["publish", runs["b"], "--page", "p", "--name", "net", "--results-dir", str(results)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and "--force" in err[0]
    assert metrics(record) == before  # the refused publication changed nothing
    assert main(["publish", runs["b"], "--page", "p", "--name", "net", "--results-dir", str(results),
                 "--force"]) == 0
    assert metrics(record) == metrics(runs["b"])


def test_publish_user_mistakes_end_in_one_error_line(runs, tmp_path, capsys):
    for argv in (["publish", str(tmp_path), "--page", "p", "--results-dir", str(tmp_path)],     # not a run
                 ["publish", runs["a"], "--page", "p", "--results-dir", str(tmp_path / "none")],  # no results dir
                 ["publish", runs["a"], "--page", "../up", "--results-dir", str(tmp_path)]):      # bad page name
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:"), argv


def test_report_regenerates_the_marked_block_from_the_records(runs, tmp_path, capsys):
    results = str(tmp_path / "results")
    page = page_with_markers(results, "demo")
    for r in runs.values():
        publish_run(r, results, "demo", log=lambda *_: None)
    assert main(["report", "--page", "demo", "--results-dir", results]) == 0
    text = open(page, encoding="utf-8").read()
    assert text.startswith("# Page\n\nHand-written text.\n\n") and text.endswith("\nMore text.\n")
    assert "stale table" not in text
    best = max(r["eval_top1"] for r in metrics(runs["a"]))
    row = next(line for line in text.splitlines() if line.startswith("| net_s0 |"))
    assert f"{100 * best:.2f} (" in row and "2/2" in row
    best_b = max(r["eval_top1"] for r in metrics(runs["b"]))
    per_config = next(line for line in text.splitlines() if line.startswith("| net |"))  # net_s0 and net_s1
    assert f"| 2 | {100 * best:.2f} (s0), {100 * best_b:.2f} (s1) | {50 * (best + best_b):.2f} |" in per_config
    assert text.index("| net |") < text.index("| net_s0 |")
    ema_part = text.split("EMA top-1 (%) per epoch")[1]  # only net_s0 kept an EMA
    assert ema_part.splitlines()[2] == "| Epoch | net_s0 |"
    assert [f"| {r['epoch']} | {100 * r['ema_top1']:.1f} |" for r in metrics(runs["a"])] == \
        [line for line in ema_part.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert os.path.getsize(os.path.join(results, "demo_top1_per_epoch.png")) > 1000
    assert os.path.getsize(os.path.join(results, "demo_top1_vs_madds.png")) > 1000
    # the page now equals what the records give
    assert regenerate_page(results, "demo", check=True, log=lambda *_: None) is False
    assert main(["report", "--page", "demo", "--results-dir", results, "--check"]) == 0

    # a changed metric in a record makes the page out of date, and regenerating shows the new value
    record = os.path.join(results, "runs", "demo", "net_s1")
    recs = metrics(record)
    recs[-1]["eval_top1"] = 0.8125
    with open(os.path.join(record, run_files.METRICS), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in recs)
    capsys.readouterr()
    assert main(["report", "--page", "demo", "--results-dir", results, "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert open(page, encoding="utf-8").read() == text  # --check wrote nothing
    assert main(["report", "--page", "demo", "--results-dir", results]) == 0
    row = next(line for line in open(page, encoding="utf-8").read().splitlines() if line.startswith("| net_s1 |"))
    assert "81.25 (1)" in row


def test_report_without_markers_or_records_is_one_error_line(runs, tmp_path, capsys):
    results = str(tmp_path / "results")
    os.makedirs(results)
    with open(os.path.join(results, "bare.md"), "w", encoding="utf-8") as f:
        f.write("# no markers\n")
    publish_run(runs["b"], results, "bare", log=lambda *_: None)
    page_with_markers(results, "empty")
    for page, words in (("bare", "<!-- table:bare begin -->"), ("empty", "no run record"), ("nopage", "no such page")):
        assert main(["report", "--page", page, "--results-dir", results]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and words in err[0], (page, err)


RUNS = os.path.join(RESULTS, "runs")
COMMITTED = sorted(d for d in os.listdir(RUNS) if os.path.isdir(os.path.join(RUNS, d))
                   and any(is_run_folder(os.path.join(RUNS, d, r)) for r in os.listdir(os.path.join(RUNS, d)))
                   ) if os.path.isdir(RUNS) else []   # pages with at least one record


@pytest.mark.parametrize("page", COMMITTED or [pytest.param(None, marks=pytest.mark.skip("no committed records yet"))])
def test_committed_pages_equal_their_records(page):
    """Every page with committed records shows exactly the tables its records give."""
    assert record_folders(RESULTS, page)
    assert regenerate_page(RESULTS, page, check=True, log=lambda *_: None) is False, \
        f"docs/results/{page}.md differs from its records: run paddle-tricks report --page {page}"


def test_an_ablation_page_gets_the_per_trick_table(runs, tmp_path):
    results = str(tmp_path / "results")
    page = page_with_markers(results, "abl")
    publish_run(runs["a"], results, "abl", name="base_s0", log=lambda *_: None)
    publish_run(runs["b"], results, "abl", name="base_s1", log=lambda *_: None)
    publish_run(runs["b"], results, "abl", name="se_s0", log=lambda *_: None)
    assert regenerate_page(results, "abl", plots=False, log=lambda *_: None) is True
    text = open(page, encoding="utf-8").read()
    base0, se = (max(r["eval_top1"] for r in metrics(runs[k])) for k in "ab")
    base = (base0 + se) / 2  # base_s0 is run a, base_s1 is run b
    row = next(line for line in text.splitlines() if line.startswith("| se |"))
    assert "Δ vs base (pp)" in text and f"{100 * (se - base):+.2f}" in row
    assert f"Seed-to-seed spread of the base: {100 * abs(base0 - se):.2f} pp" in text  # the line below the table
    assert text.index("| se |") < text.index("| base_s0 |")  # per trick first, then per run


def test_an_ablation_page_with_a_ranking_file_is_ranked_against_the_other_page(runs, tmp_path, capsys):
    """``ranking.yaml`` beside an ablation's records puts the per-trick ranking against the named page in the
    block; a ranking against a page without records is one error line."""
    results = str(tmp_path / "results")
    page = page_with_markers(results, "real")
    for name, run in (("base_s0", "a"), ("base_s1", "b"), ("se_s0", "b")):
        publish_run(runs[run], results, "real", name=name, log=lambda *_: None)
    for name, run in (("base_s0", "b"), ("se_s0", "a")):
        publish_run(runs[run], results, "toy", name=name, log=lambda *_: None)
    ranking = os.path.join(results, "runs", "real", "ranking.yaml")
    with open(ranking, "w", encoding="utf-8") as f:
        f.write("against: toy\nlabel: toy set\nthis_label: real set\n")
    assert regenerate_page(results, "real", plots=False, log=lambda *_: None) is True
    text = open(page, encoding="utf-8").read()
    a, b = (max(r["eval_top1"] for r in metrics(runs[k])) for k in "ab")
    assert "Ranked against [toy.md](toy.md) (toy set; `runs/real/ranking.yaml`):" in text
    ranked = text[text.index("Ranked against"):text.index("Per run:")]
    row = next(line for line in ranked.splitlines() if line.startswith("| se | "))
    assert row.startswith(f"| se | {100 * (b - (a + b) / 2):+.2f} | 1 | 1 | ")
    assert f" | {100 * (a - b):+.2f} | 1 | 1 | ? | ? |" in row      # one toy base seed: no spread to judge by
    with open(ranking, "w", encoding="utf-8") as f:
        f.write("against: nowhere\n")
    capsys.readouterr()
    assert main(["report", "--page", "real", "--results-dir", results]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nowhere" in err[0]


def test_published_figures_get_a_difference_and_a_verdict_per_run(runs, tmp_path, capsys):
    """``references.yaml`` beside the records: published value, ours, Δ and a verdict by the stated tolerance;
    a reference without a record reads 'no record yet'; a malformed file is one error line."""
    results = str(tmp_path / "results")
    page = page_with_markers(results, "d2l")
    publish_run(runs["a"], results, "d2l", name="net_s0", log=lambda *_: None)
    publish_run(runs["b"], results, "d2l", name="net_s1", log=lambda *_: None)
    publish_run(runs["b"], results, "d2l", name="shown", log=lambda *_: None)
    final_a, final_b = (metrics(runs[k])[-1]["eval_top1"] for k in "ab")
    refs = os.path.join(results, "runs", "d2l", "references.yaml")
    with open(refs, "w", encoding="utf-8") as f:
        f.write(f"source: a test table\nmetric: final_top1\ntolerance: 0.02\nruns:\n"
                f"  net_s0: {{name: Net A, value: {final_a - 0.015:.4f}}}\n"
                f"  net_s1: {{name: Net B, value: {max(0.0, final_b - 0.25):.4f}}}\n"
                f"  missing: {{name: Net C, value: 0.5}}\n"
                f"  shown: {{name: Net D, value: null, note: screenshot only}}\n")
    assert regenerate_page(results, "d2l", plots=False, log=lambda *_: None) is True
    text = open(page, encoding="utf-8").read()
    assert "Against the published figures (a test table; `runs/d2l/references.yaml`)" in text
    line = {name: next(x for x in text.splitlines() if x.startswith(f"| {name} ")) for name in ("Net A", "Net B",
                                                                                               "Net C", "Net D")}
    assert f"| {100 * final_a:.1f} | +1.5 | reproduced (within ±2.0 pp) |" in line["Net A"]
    if final_b - 0.25 >= 0:
        assert "above the published figure by 25.0 pp" in line["Net B"]
    assert line["Net C"].endswith("| - | - | no record yet |")
    assert "- (screenshot only)" in line["Net D"] and line["Net D"].endswith("no published figure |")
    with open(refs, "w", encoding="utf-8") as f:
        f.write("runs:\n  net_s0: {value: 83}\n")       # a percentage where a fraction belongs
    capsys.readouterr()
    assert main(["report", "--page", "d2l", "--results-dir", results]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "references.yaml" in err[0] and "[0, 1]" in err[0]
