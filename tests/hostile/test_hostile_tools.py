"""Hostile command lines and run folders for eval, export, compare and ablate (issue 11.4): one ``error:``
line, exit code 2, no traceback, no half-written output, and the finished run byte-identical."""
import json
import os

import pytest

from hostile_kit import (assert_refused, assert_unchanged, copy_run, run_tool, snapshot,
                         write_config)



@pytest.fixture
def untouched(finished_run):
    """The finished run, checked byte-identical after the case."""
    cfg, run = finished_run
    before = snapshot(run)
    yield cfg, run
    assert_unchanged(before, run)


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("keep me\n")
    yield path
    assert path.read_text() == "keep me\n"


# ----------------------------------------------------------------------------------------------------- eval
def test_eval_json_into_a_missing_folder(untouched, tmp_path, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "eval", "-c", cfg, "--json", tmp_path / "no" / "such" / "m.json"), "m.json")


def test_eval_json_under_a_file(untouched, a_file, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "eval", "-c", cfg, "--json", a_file / "m.json"), "m.json")


def test_eval_json_onto_a_folder(untouched, tmp_path, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "eval", "-c", cfg, "--json", tmp_path))


def test_eval_ema_weights_that_the_run_does_not_have(untouched, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "eval", "-c", cfg, "--ema"))


# --------------------------------------------------------------------------------------------------- export
def test_export_onto_an_existing_file(untouched, a_file, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "export", "-c", cfg, "--out", a_file), "a_file")


def test_export_under_a_file(untouched, a_file, capfd):
    cfg, _ = untouched
    assert_refused(run_tool(capfd, "export", "-c", cfg, "--out", a_file / "exp"))


@pytest.mark.parametrize("flag, value", [("--in-channels", 4), ("--in-channels", 0), ("--input-size", 0),
                                         ("--input-size", -32), ("--samples", -1)])
def test_export_bad_numbers(untouched, tmp_path, capfd, flag, value):
    cfg, _ = untouched
    out = run_tool(capfd, "export", "-c", cfg, "--out", tmp_path / "exp", flag, value)
    assert_refused(out, flag)
    assert not (tmp_path / "exp").exists()


# -------------------------------------------------------------------------------------------------- compare
def damaged_metrics(kind, run):
    lines = open(os.path.join(run, "metrics.jsonl")).read().splitlines()
    if kind == "epoch_1e400":
        lines[-1] = lines[-1].replace('"epoch": 2', '"epoch": 1e400', 1)
        assert "1e400" in lines[-1]
    elif kind == "not_json":
        lines.insert(1, "{this is not json")
    elif kind == "a_list":
        lines[0] = "[1, 2, 3]"
    elif kind == "empty":
        lines = []
    with open(os.path.join(run, "metrics.jsonl"), "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))


def assert_noted_or_refused(outcome, needle):
    """A report tool may skip what it cannot read, if a ``note:`` line says so; otherwise a clean refusal."""
    if outcome.code != 0:
        assert_refused(outcome, needle)
        return
    assert "Traceback" not in outcome.out + outcome.err
    notes = [ln for ln in (outcome.out + outcome.err).splitlines() if ln.startswith(("note:", "warning:"))]
    assert any(needle in ln for ln in notes), outcome.out + outcome.err


@pytest.mark.parametrize("kind", ["epoch_1e400", "not_json", "a_list", "empty"])
def test_compare_a_run_with_damaged_metrics(finished_run, tmp_path, capfd, kind):
    _, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    damaged_metrics(kind, copy)
    out = run_tool(capfd, "compare", copy, "--out", tmp_path / "cmp", "--no-latency")
    assert_noted_or_refused(out, "metrics.jsonl")


def test_compare_a_run_with_a_damaged_config(finished_run, tmp_path, capfd):
    _, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    with open(os.path.join(copy, "config.yaml"), "w") as f:
        f.write("Global: [unclosed\n")
    out = run_tool(capfd, "compare", copy, "--out", tmp_path / "cmp", "--no-latency")
    assert_noted_or_refused(out, "config.yaml")


def test_compare_out_under_a_file(untouched, a_file, capfd):
    _, run = untouched
    assert_refused(run_tool(capfd, "compare", run, "--out", a_file / "cmp", "--no-latency"))


@pytest.mark.parametrize("what", ["missing", "empty_folder", "a_file"])
def test_compare_something_that_is_not_a_run(tmp_path, capfd, what):
    target = tmp_path / what
    if what == "empty_folder":
        target.mkdir()
    elif what == "a_file":
        target.write_text("x")
    assert_refused(run_tool(capfd, "compare", target, "--out", tmp_path / "cmp", "--no-latency"), what)
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("flag, value", [("--repeats", -1), ("--repeats", 0), ("--input-size", 0),
                                         ("--threads", 0)])
def test_compare_bad_numbers(untouched, tmp_path, capfd, flag, value):
    _, run = untouched
    assert_refused(run_tool(capfd, "compare", run, "--out", tmp_path / "cmp", flag, value), flag)


# --------------------------------------------------------------------------------------------------- ablate
@pytest.fixture
def ablation(tmp_path):
    base = write_config(tmp_path / "abl" / "base_tiny.yaml", tmp_path / "unused")
    (tmp_path / "abl" / "wide.yaml").write_text("_base_: base_tiny.yaml\nArch: {options: {width_mult: 0.5}}\n")
    return base


def test_ablate_a_missing_base(tmp_path, capfd):
    assert_refused(run_tool(capfd, "ablate", "-c", tmp_path / "nope.yaml", "--dry-run"), "nope.yaml")


def test_ablate_an_unknown_trick(ablation, capfd):
    assert_refused(run_tool(capfd, "ablate", "-c", ablation, "--tricks", "nope", "--dry-run"), "nope")


@pytest.mark.parametrize("seeds", ["a,b", "1.5", "-1", "4294967296"])
def test_ablate_bad_seeds(ablation, capfd, seeds):
    assert_refused(run_tool(capfd, "ablate", "-c", ablation, "--seeds", seeds, "--dry-run"))


def test_ablate_out_under_a_file(ablation, a_file, capfd):
    assert_refused(run_tool(capfd, "ablate", "-c", ablation, "--out", a_file / "abl", "--no-latency"))


def test_ablate_bad_override(ablation, capfd):
    assert_refused(run_tool(capfd, "ablate", "-c", ablation, "-o", "Global.epoch=3", "--dry-run"), "Global.epoch")


def test_metrics_of_the_shared_run_are_plain(finished_run):
    """The damage above is made on copies: the shared run's metrics stay two plain epoch records."""
    _, run = finished_run
    records = [json.loads(x) for x in open(os.path.join(run, "metrics.jsonl")).read().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
