"""Hostile weights and checkpoints (issue 11.3, 11.4): no file the suite reads can run code, and a crafted,
damaged or mismatched file ends in one error line with the finished run untouched."""
import os
import pickle

import pytest

from hostile_kit import (RunsCode, assert_refused, assert_unchanged, copy_run, legacy_checkpoint,
                         run_tool, snapshot, write_config, write_malicious_pickle)



class RunsExec:
    """A second gadget (``builtins.exec``): a restricted loader must allow-list, not block ``os.system``."""

    def __init__(self, marker):
        self.source = f"open({str(marker)!r}, 'w').close()"

    def __reduce__(self):
        return (exec, (self.source,))


def checkpoint_files(run):
    return [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(run, "checkpoints")) for f in fs]


def weight_files(run):
    return [os.path.join(run, f) for f in os.listdir(run) if f.startswith("best.") and f != "best.json"]


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "CODE_RAN"
    yield path
    assert not path.exists(), "the malicious pickle ran its code"


# ---------------------------------------------------------------------------------------------- code in pickles
@pytest.mark.parametrize("inside", ["weights", "checkpoint"])
def test_eval_weights_that_run_code(finished_run, tmp_path, capfd, marker, inside):
    cfg, run = finished_run
    before = snapshot(run)
    evil = write_malicious_pickle(tmp_path / "evil.pdparams", marker, inside)
    out = run_tool(capfd, "eval", "-c", cfg, "-w", evil)
    assert not marker.exists()
    assert_refused(out, "evil.pdparams")
    assert_unchanged(before, run)


def test_eval_exec_gadget(finished_run, tmp_path, capfd, marker):
    cfg, run = finished_run
    with open(tmp_path / "evil.pdparams", "wb") as f:
        pickle.dump({"stem.conv.weight": RunsExec(marker)}, f, protocol=2)
    out = run_tool(capfd, "eval", "-c", cfg, "-w", tmp_path / "evil.pdparams")
    assert not marker.exists()
    assert_refused(out, "evil.pdparams")


def test_eval_default_weights_of_the_run_replaced(finished_run, tmp_path, capfd, marker):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    for path in weight_files(copy):
        write_malicious_pickle(path, marker)
    out = run_tool(capfd, "eval", "-c", cfg, "-o", f"Global.output_dir={copy}")
    assert not marker.exists()
    assert_refused(out)


def test_resume_from_a_checkpoint_that_runs_code(finished_run, tmp_path, capfd, marker):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    for path in checkpoint_files(copy):
        write_malicious_pickle(path, marker, "checkpoint")
    before = snapshot(copy)
    out = run_tool(capfd, "train", "-c", cfg, "-o", f"Global.output_dir={copy}", "--resume")
    assert not marker.exists()
    assert_refused(out)
    assert_unchanged(before, copy)


def test_resume_from_an_explicit_malicious_file(finished_run, tmp_path, capfd, marker):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    before = snapshot(copy)
    evil = write_malicious_pickle(tmp_path / "evil.pdckpt", marker, "checkpoint")
    out = run_tool(capfd, "train", "-c", cfg, "-o", f"Global.output_dir={copy}", "--resume", evil)
    assert not marker.exists()
    assert_refused(out, "evil.pdckpt")
    assert_unchanged(before, copy)


def test_pretrained_weights_that_run_code(tmp_path, capfd, marker):
    evil = write_malicious_pickle(tmp_path / "evil.pdparams", marker)
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "run", Arch={"pretrained": evil})
    out = run_tool(capfd, "train", "-c", cfg)
    assert not marker.exists()
    assert_refused(out, "evil.pdparams")


def test_export_weights_that_run_code(finished_run, tmp_path, capfd, marker):
    cfg, run = finished_run
    before = snapshot(run)
    evil = write_malicious_pickle(tmp_path / "evil.pdparams", marker)
    out = run_tool(capfd, "export", "-c", cfg, "-w", evil, "--out", tmp_path / "export")
    assert not marker.exists()
    assert_refused(out, "evil.pdparams")
    assert not (tmp_path / "export").exists()
    assert_unchanged(before, run)


def test_compare_a_run_whose_weights_run_code(finished_run, tmp_path, capfd, marker):
    """compare may report the run without the measurements that need its weights, if it says why."""
    _, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    for path in weight_files(copy) + checkpoint_files(copy):
        write_malicious_pickle(path, marker)
    out = run_tool(capfd, "compare", copy, "--out", tmp_path / "cmp", "--repeats", 1)
    assert not marker.exists()
    if out.code == 0:
        assert "refused to load" in out.out + out.err and "Traceback" not in out.err
    else:
        assert_refused(out)


def test_ablate_with_pretrained_weights_that_run_code(tmp_path, capfd, marker):
    evil = write_malicious_pickle(tmp_path / "evil.pdparams", marker)
    base = write_config(tmp_path / "abl" / "base_tiny.yaml", tmp_path / "unused")
    (tmp_path / "abl" / "wide.yaml").write_text("_base_: base_tiny.yaml\nArch: {options: {width_mult: 0.5}}\n")
    out = run_tool(capfd, "ablate", "-c", base, "--out", tmp_path / "ablout", "--no-latency",
                   "-o", f"Arch.pretrained={evil}")
    assert not marker.exists()
    assert_refused(out, "evil.pdparams")


def test_the_gadget_really_runs_code_when_unpickled(tmp_path):
    """The malicious files above are real: plain ``pickle`` runs their command."""
    for gadget in (RunsCode, RunsExec):
        marker = tmp_path / f"ran_{gadget.__name__}"
        pickle.loads(pickle.dumps({"w": gadget(marker)}, protocol=2))
        assert marker.exists()


# ----------------------------------------------------------------------------------- crafted checkpoints
CRAFTED = {
    "no_epoch": {"epoch": None},
    "no_optimizer": {"optimizer": None},
    "negative_epoch": {"epoch": -3},
    "epoch_is_text": {"epoch": "two"},
    "no_model": {"model": None},
    "model_is_a_list": {"model": [1, 2, 3]},
}


@pytest.mark.parametrize("kind", sorted(CRAFTED))
def test_resume_from_a_crafted_checkpoint(finished_run, tmp_path, capfd, kind):
    cfg, run = finished_run
    copy = copy_run(run, tmp_path / "copy")
    before = snapshot(copy)
    crafted = legacy_checkpoint(tmp_path / f"{kind}.pdckpt", cfg, **CRAFTED[kind])
    out = run_tool(capfd, "train", "-c", cfg, "-o", f"Global.output_dir={copy}", "--resume", crafted)
    assert_refused(out, f"{kind}.pdckpt")
    assert_unchanged(before, copy)


def test_a_checkpoint_of_the_previous_version_loads_or_is_refused_clearly(finished_run, tmp_path, capfd):
    cfg, run = finished_run
    old = legacy_checkpoint(tmp_path / "old.pdparams", cfg)
    out = run_tool(capfd, "eval", "-c", cfg, "-w", old)
    if out.code != 0:
        assert_refused(out, "old.pdparams")


def damaged(kind, tmp_path, run):
    """A weights file that is missing, a folder, empty, text, or the first half of the run's own."""
    path = tmp_path / f"{kind}.pdparams"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("these are not weights\n")
    elif kind == "truncated":
        real = open(sorted(weight_files(run))[0], "rb").read()
        path.write_bytes(real[: len(real) // 2])
    elif kind == "not_a_dict":
        with open(path, "wb") as f:
            pickle.dump([1.0, 2.0], f, protocol=2)
    return str(path)


DAMAGED = ["missing", "folder", "empty", "text", "truncated",
           "not_a_dict"]


@pytest.mark.parametrize("kind", DAMAGED)
def test_eval_damaged_weights(finished_run, tmp_path, capfd, kind):
    cfg, run = finished_run
    before = snapshot(run)
    assert_refused(run_tool(capfd, "eval", "-c", cfg, "-w", damaged(kind, tmp_path, run)), f"{kind}.pdparams")
    assert_unchanged(before, run)


@pytest.mark.parametrize("kind", ["missing", "truncated", "text"])
def test_export_damaged_weights(finished_run, tmp_path, capfd, kind):
    cfg, run = finished_run
    before = snapshot(run)
    out = run_tool(capfd, "export", "-c", cfg, "-w", damaged(kind, tmp_path, run), "--out", tmp_path / "exp")
    assert_refused(out, f"{kind}.pdparams")
    assert not (tmp_path / "exp").exists()
    assert_unchanged(before, run)


@pytest.mark.parametrize("kind", ["missing", "truncated", "folder"])
def test_pretrained_damaged(finished_run, tmp_path, capfd, kind):
    _, run = finished_run
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "run",
                       Arch={"pretrained": damaged(kind, tmp_path, run)})
    assert_refused(run_tool(capfd, "train", "-c", cfg), f"{kind}.pdparams")


def test_eval_weights_of_another_class_count_name_the_parameter(finished_run, tmp_path, capfd):
    cfg, run = finished_run
    ten = write_config(tmp_path / "ten.yaml", tmp_path / "x", Arch={"num_classes": 10})
    other = legacy_checkpoint(tmp_path / "ten.pdparams", ten)
    line = assert_refused(run_tool(capfd, "eval", "-c", cfg, "-w", other), "ten.pdparams")
    assert "[10]" in line and "[16]" in line
