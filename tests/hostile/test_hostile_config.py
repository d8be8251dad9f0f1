"""Hostile configs (issue 11.5): bounds checked before anything is allocated, option keys named, and a
crafted YAML ends in well under a second with one error line."""
import time

import pytest

from hostile_kit import assert_refused, assert_unchanged, run_tool, snapshot, write_config



@pytest.mark.parametrize("override, key", [
    pytest.param("Global.seed=4294967296", "Global.seed"),
    pytest.param("Global.seed=18446744073709551616", "Global.seed"),
    ("Global.seed=-1", "Global.seed"),
    pytest.param("Data.options.image_size=0", "Data.options.image_size"),
    pytest.param("Data.options.image_size=10000", "Data.options.image_size"),
    pytest.param("Data.options.image_size=big", "Data.options.image_size"),
    pytest.param("Data.options.colour=red", "Data.options.colour"),
    pytest.param("Arch.options.width_mult=1000", "Arch.options.width_mult"),
    pytest.param("Arch.options.width_mult=0", "Arch.options.width_mult"),
    pytest.param("Arch.options.depth=3", "Arch.options.depth"),
    ("Global.epochs=0", "Global.epochs"),
    ("Data.batch_size=-4", "Data.batch_size"),
    ("LR.base_lr=.nan", "LR.base_lr"),
    ("Arch.num_classes=0", "Arch.num_classes"),
])
def test_out_of_bounds_values_name_the_key(finished_run, capfd, override, key):
    """Aimed at the finished run's folder: the value is refused first, and the run stays byte-identical."""
    cfg, run = finished_run
    before = snapshot(run)
    start = time.time()
    assert_refused(run_tool(capfd, "train", "-c", cfg, "-o", override), key)
    assert time.time() - start < 20                                  # refused before any big allocation
    assert_unchanged(before, run)


def test_one_class_is_supported_or_refused_with_the_reason(tmp_path, capfd):
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "run", Arch={"num_classes": 1},
                       Global={"epochs": 1})
    out = run_tool(capfd, "train", "-c", cfg)
    if out.code != 0:
        assert_refused(out, "num_classes")


def nested_aliases(depth: int = 8, width: int = 9) -> str:
    """A YAML list whose aliases expand to ``width ** depth`` strings (a "billion laughs")."""
    levels = ["&a [" + ",".join(["l"] * width) + "]"]
    for prev, name in zip("abcdefghij", "bcdefghijk"[: depth - 1]):
        levels.append(f"&{name} [" + ",".join([f"*{prev}"] * width) + "]")
    return "[" + ", ".join(levels) + "]"


@pytest.mark.parametrize("where", ["Global:\n  epochs: {}\n", "Arch:\n  name: {}\n",
                                   "Data:\n  train_transforms: {}\n", "Global: {}\n"])
def test_nested_aliases_end_in_under_a_second(tmp_path, capfd, where):
    doc = where.format(nested_aliases())
    assert len(doc) < 500
    (tmp_path / "laughs.yaml").write_text(doc)
    start = time.time()
    out = run_tool(capfd, "train", "-c", tmp_path / "laughs.yaml")
    assert time.time() - start < 1.0
    line = assert_refused(out, "laughs.yaml")
    assert len(line) < 400


@pytest.mark.parametrize("content, needle", [
    (b"Global: " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b"Global: {epochs: 2}\n\xff\xfe not utf-8\n", "UTF-8"),
    (bytes(range(256)) * 4, "cfg.yaml"),
    (b"- just\n- a list\n", "mapping"),
    (b"Global: {epochs: 2}\nGlobal: {epochs: 3}\n", "duplicate key"),
    (b"Global: !!python/object/apply:os.system ['touch /tmp/never']\n", "cfg.yaml"),
])
def test_malformed_yaml_files(tmp_path, capfd, content, needle):
    (tmp_path / "cfg.yaml").write_bytes(content)
    assert_refused(run_tool(capfd, "train", "-c", tmp_path / "cfg.yaml"), needle)


def test_a_base_chain_that_loops(tmp_path, capfd):
    (tmp_path / "a.yaml").write_text("_base_: b.yaml\n")
    (tmp_path / "b.yaml").write_text("_base_: a.yaml\n")
    assert_refused(run_tool(capfd, "train", "-c", tmp_path / "a.yaml"), "circular")
