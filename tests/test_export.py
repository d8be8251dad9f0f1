"""paddle-tricks export: reparameterise, save (Paddle or ONNX), run in the deploy runtime, compare with dygraph."""
import os

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_tricks.config import load_config
from paddle_tricks.deploy import reparameterize
from paddle_tricks.models import build_network
from paddle_tricks.cli.export import export_main
from paddle_tricks.export import ExportError, export_network
from paddle_tricks.models import create_model
from helpers import assert_one_error
from helpers import randomise_bn as _randomise_bn


def _config(tmp_path, tricks="{conv3x3: acblock, input_size: 32}", name="resnet18"):
    path = tmp_path / "cfg.yaml"
    path.write_text(f"Global: {{output_dir: {tmp_path / 'run'}, device: cpu}}\n"
                    f"Arch: {{name: {name}, num_classes: 4, tricks: {tricks}}}\n"
                    "Data: {dataset: quickstart}\n")
    return str(path)


def _n_params(params):
    return sum(int(np.prod(p.shape)) for p in params)


def test_export_cli_fuses_acnet_and_reproduces_the_trained_net(tmp_path, capsys):
    cfg_path = _config(tmp_path)
    net = build_network(load_config(cfg_path))          # ACNet ResNet-18, train form
    _randomise_bn(net)
    weights = str(tmp_path / "w.pdparams")
    paddle.save(net.state_dict(), weights)
    out = tmp_path / "exported"
    assert export_main(["-c", cfg_path, "--weights", weights, "--out", str(out), "--input-size", "32"]) == 0
    printed = capsys.readouterr().out
    assert f"saved: {out}\n" in printed and f"  {out / 'model.json'}" in printed and "max abs diff" in printed

    loaded = paddle.jit.load(str(out / "model"))
    loaded.eval()
    x = paddle.to_tensor(np.random.RandomState(7).standard_normal((3, 3, 32, 32)).astype("float32"))
    net.eval()
    with paddle.no_grad():
        ref = net(x).numpy()
        got = loaded(x).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(ref).max()))
    # the saved program is the fused one: exactly the parameters of a fused plain ResNet-18
    plain = reparameterize(create_model("resnet18", num_classes=4))
    assert _n_params(loaded.parameters()) == _n_params(plain.parameters()) < _n_params(net.parameters())


class _Drifty(nn.Layer):
    """A net whose dygraph output changes per call: the traced program cannot match it."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.conv = nn.Conv2D(3, 2, 1)

    def forward(self, x):
        self.calls += 1
        return self.conv(x).mean(axis=[2, 3]) + float(self.calls)


def test_export_network_fails_when_the_program_differs(tmp_path):
    with pytest.raises(ExportError, match=r"differs from the dygraph network: max abs diff"):
        export_network(_Drifty(), str(tmp_path / "out"), input_size=8)


def test_export_network_small_net_result(tmp_path):
    net = nn.Sequential(nn.Conv2D(3, 4, 3, padding=1), nn.BatchNorm2D(4), nn.ReLU(), nn.AdaptiveAvgPool2D(1),
                        nn.Flatten(), nn.Linear(4, 2))
    _randomise_bn(net)
    res = export_network(net, str(tmp_path / "out"), input_size=8, name="tiny")
    assert res.max_abs_diff <= 1e-4
    assert res.params_deploy == res.params_train - 8   # the BN's 4 gammas and 4 betas folded into the conv bias
    assert res.path_prefix.endswith("tiny") and any(f.endswith(".pdiparams") for f in res.files)


@pytest.mark.parametrize("args,needle", [
    (["-c", "nowhere.yaml"], "config file not found"),
    (["--tricks", "{conv3x4: acblock}"], "unknown trick 'conv3x4'; did you mean 'conv3x3'?"),
    (["--weights", "OTHER"], "does not fit the model"),
    (["--input-size", "0"], "--input-size must be a positive integer, got 0"),
])
def test_export_cli_user_errors(tmp_path, capsys, args, needle):
    tricks = "{input_size: 32}"
    if args[0] == "--tricks":
        tricks, args = args[1], []
    cfg_path = _config(tmp_path, tricks=tricks)
    if "OTHER" in args:
        other = str(tmp_path / "other.pdparams")
        paddle.save(create_model("mobilenet_v2", num_classes=4, width_mult=0.35).state_dict(), other)
        args = ["--weights", other]
    argv = args if args[:1] == ["-c"] else ["-c", cfg_path] + args
    assert export_main(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and needle in err[-1]


def _quickstart(tmp_path, size=24):
    path = tmp_path / "qs.yaml"
    path.write_text(f"Global: {{output_dir: {tmp_path / 'run'}, device: cpu}}\n"
                    "Arch: {name: asymmnet_small, num_classes: 16, options: {width_mult: 0.35}}\n"
                    "Data: {dataset: quickstart, options: {num_per_class: 1, eval_per_class: 1, "
                    f"image_size: {size}}},"
                    " eval_transforms: [Transpose, {Normalize: {mean: [127.5, 127.5, 127.5], std: [64, 64, 64],"
                    " data_format: CHW}}]}\n")
    return str(path)


def test_onnx_export_matches_dygraph(tmp_path):
    import onnxruntime as ort
    net = build_network(load_config(_config(tmp_path)))          # ACNet ResNet-18
    _randomise_bn(net)
    net.eval()
    x = np.random.RandomState(3).standard_normal((4, 3, 32, 32)).astype("float32")
    with paddle.no_grad():
        ref = net(paddle.to_tensor(x)).numpy()
    res = export_network(net, str(tmp_path / "out"), input_size=32, fmt="onnx")
    assert res.runtime == "onnxruntime" and [f.rsplit("/", 1)[1] for f in res.files] == ["model.onnx"]
    session = ort.InferenceSession(str(tmp_path / "out" / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    # the inputs differ from the export's own check; the batch size too (dynamic batch)
    assert np.abs(got - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


def test_export_cli_defaults_to_the_eval_size_and_replaces_its_own_export(tmp_path, capsys):
    cfg = _quickstart(tmp_path, size=24)
    out = tmp_path / "run" / "export"
    assert export_main(["-c", cfg]) == 0
    printed = capsys.readouterr().out
    assert "paddle.inference vs dygraph on 8 eval images of 24x24" in printed
    assert f"  {out / 'model.json'}" in printed and f"  {out / 'deploy.json'}" in printed
    import json
    assert json.loads((out / "deploy.json").read_text())["input_shape"] == [3, 24, 24]
    (out / "stale.txt").write_text("from the first export")
    assert export_main(["-c", cfg, "--format", "onnx"]) == 0      # an older export is replaced whole
    assert sorted(p.name for p in out.iterdir()) == ["deploy.json", "model.onnx"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["export"]    # no staging folder left


def test_export_cli_error_contract(tmp_path, capsys):
    cfg = _quickstart(tmp_path)
    (tmp_path / "a_file").write_text("keep me")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me")
    cases = [
        (["--out", str(tmp_path / "a_file")], ["is an existing file"]),
        (["--out", str(tmp_path / "a_file" / "sub")], ["lies under", "which is a file"]),
        (["--out", str(tmp_path / "other")], ["holding other files"]),
        (["--in-channels", "4", "--out", str(tmp_path / "e")], ["--in-channels 4", "3 channel(s)"]),
        (["--samples", "0", "--out", str(tmp_path / "e")], ["--samples must be a positive integer"]),
        (["--input-size", "32", "--out", str(tmp_path / "e")], ["--input-size 32", "give 24x24 images"]),
    ]
    for args, needles in cases:
        assert export_main(["-c", cfg] + args) == 2, args
        assert_one_error(capsys, *needles)
    assert (tmp_path / "a_file").read_text() == "keep me" and os.listdir(tmp_path / "other") == ["notes.txt"]
    assert not (tmp_path / "e").exists()


def test_export_cli_in_channels_without_eval_images(tmp_path, capsys):
    # no readable eval images: random inputs of --input-size; a channel count the network refuses is one line
    cfg = _config(tmp_path, tricks="{input_size: 16}")
    assert export_main(["-c", cfg, "-o", "Data.dataset=folder", "-o", f"Data.root={tmp_path / 'none'}",
                        "--in-channels", "4", "--input-size", "16", "--out", str(tmp_path / "e")]) == 2
    assert_one_error(capsys, "does not accept inputs of shape [N, 4, 16, 16]")
    assert not (tmp_path / "e").exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_on_a_full_disk_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    def full_disk_save(layer, prefix, **kwargs):
        with open(prefix + ".pdiparams", "wb") as f:
            f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", prefix + ".pdiparams")

    monkeypatch.setattr(paddle.jit, "save", full_disk_save)
    out = tmp_path / "exp"
    assert export_main(["-c", _quickstart(tmp_path), "--out", str(out)]) == 2
    assert_one_error(capsys, f"could not write the export to {out}", "No space left", "nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qs.yaml"]


def test_onnx_without_its_packages_says_how_to_install(tmp_path, capsys, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert export_main(["-c", _quickstart(tmp_path), "--format", "onnx", "--out", str(tmp_path / "e")]) == 2
    assert_one_error(capsys, "--format onnx needs onnxruntime", "pip install 'paddle_tricks[onnx]'")
    assert not (tmp_path / "e").exists()
