"""Config loading: _base_ inheritance, -o overrides, rejection of unknown keys and wrong types."""
import pytest
import yaml

from paddle_tricks.config import ConfigError, load_config, parse_overrides


def write(path, data):
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return str(path)


BASE = {"Global": {"epochs": 5, "seed": 1}, "Arch": {"name": "asymmnet_small", "num_classes": 16},
        "Data": {"dataset": "quickstart", "batch_size": 8}}


def test_base_inheritance_and_overrides(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    child = write(tmp_path / "child.yaml", {"_base_": "base.yaml", "Global": {"epochs": 7}})
    cfg = load_config(child, ["Data.batch_size=4", "Arch.options={width_mult: 0.5}", "LR.base_lr=1"])
    assert cfg["Global"]["epochs"] == 7          # child wins
    assert cfg["Global"]["seed"] == 1            # inherited from the base
    assert cfg["Data"]["batch_size"] == 4        # override wins
    assert cfg["Arch"]["options"] == {"width_mult": 0.5}   # YAML-parsed value
    assert cfg["LR"]["base_lr"] == 1.0 and isinstance(cfg["LR"]["base_lr"], float)
    assert cfg["Optimizer"]["name"] == "Momentum"   # default filled in


@pytest.mark.parametrize("override, message", [
    (["Global.epcohs=3"], "did you mean 'epochs'"),
    (["Optimiser.name=SGD"], "did you mean 'Optimizer'"),
    (["Global.epochs=three"], "Global.epochs must be a positive integer"),
    (["Global.epochs=0"], "Global.epochs must be a positive integer"),
    (["Data.batch_size=-2"], "Data.batch_size must be a positive integer"),
    (["LR.name=Cosin"], "LR.name must be one of"),
    (["EMA.decay=1.5"], "EMA.decay must be a number"),
    (["Global.epochs"], "must look like Section.key=value"),
    (["epochs=3"], "the key must be Section.key"),
])
def test_bad_configs_are_rejected_with_a_clear_message(tmp_path, override, message):
    path = write(tmp_path / "c.yaml", BASE)
    with pytest.raises(ConfigError, match=message):
        load_config(path, override)


def test_a_warmup_as_long_as_the_run_is_halved_with_a_notice(tmp_path):
    path = write(tmp_path / "c.yaml", BASE)
    notes = []
    cfg = load_config(path, ["LR.name=CosineWarmup", "LR.warmup_epochs=1", "Global.epochs=1"], notice=notes.append)
    assert cfg["LR"]["warmup_epochs"] == 0.5
    assert notes == ["note: LR.warmup_epochs=1 is not shorter than Global.epochs=1: the warm-up is shortened to "
                     "0.5 epoch(s)"]
    kept = load_config(path, ["LR.name=CosineWarmup", "LR.warmup_epochs=2", "Global.epochs=5"], notice=notes.append)
    assert kept["LR"]["warmup_epochs"] == 2 and len(notes) == 1


def test_yaml_errors_missing_and_circular_bases(tmp_path):
    bad = write(tmp_path / "bad.yaml", "Global: {epochs: 3\n")
    with pytest.raises(ConfigError, match="YAML syntax error at line"):
        load_config(bad)
    missing = write(tmp_path / "m.yaml", {"_base_": "nowhere.yaml", **BASE})
    with pytest.raises(ConfigError, match="_base_ file not found: nowhere.yaml"):
        load_config(missing)
    write(tmp_path / "a.yaml", {"_base_": "b.yaml"})
    write(tmp_path / "b.yaml", {"_base_": "a.yaml"})
    with pytest.raises(ConfigError, match="circular _base_ chain"):
        load_config(str(tmp_path / "a.yaml"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "none.yaml"))


def test_override_values_are_yaml():
    assert parse_overrides(["A.b=[1, 2]", "A.c=true", "A.d=null", "A.e=0.5"]) == [
        (["A", "b"], [1, 2]), (["A", "c"], True), (["A", "d"], None), (["A", "e"], 0.5)]


def test_every_shipped_config_is_valid():
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1] / "configs"
    paths = sorted(p for p in root.rglob("*.yaml") if not p.name.startswith("_"))
    assert paths, "no config shipped"
    for p in paths:
        cfg = load_config(str(p))
        assert cfg["Arch"]["name"], p
