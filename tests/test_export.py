"""tools/export.py: reparameterise, paddle.jit.save, reload, compare with the dygraph network."""
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
    assert f"saved: {out / 'model'}" in printed and "max abs diff" in printed

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
    (["--input-size", "0"], "--input-size and --in-channels must be positive"),
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
