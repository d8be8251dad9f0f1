"""Architecture-neutral tricks (paddle_tricks.tricks) on ResNet-18, MobileNetV2 and AsymmNet-L."""
import copy
import glob
import os

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from paddle_tricks.config import load_config
from paddle_tricks.deploy import reparameterize
from paddle_tricks.models import build_network
from paddle_tricks.errors import ConfigError
from paddle_tricks.layers import (ACBlock, AconC, BlurPool, CoordConv, DeformableConv, DropBlock, DyReLUB,
                                  MaxBlurPool, MetaAconC, NAM, PyConv, SEModule, SPConv)
from paddle_tricks.layers.conv_bn import ConvBNAct
from paddle_tricks.models import create_model
from paddle_tricks.tricks import DropoutLinear, apply_tricks, available_tricks
from helpers import randomise_bn as _randomise_bn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["resnet18", "mobilenet_v2", "asymmnet_large"]


def _x(n=2, size=32, seed=1):
    return paddle.to_tensor(np.random.RandomState(seed).standard_normal((n, 3, size, size)).astype("float32"))


def _build(name, tricks=None, **kw):
    net = create_model(name, num_classes=4)
    if tricks:
        apply_tricks(net, tricks, log=None, **kw)
    return net


def _count(net, cls):
    return sum(isinstance(m, cls) for m in net.sublayers())


def _train_step(net):
    """One SGD step on a 2x3x32x32 batch; returns the loss. Fails if nothing trains."""
    net.train()
    fc = [p for p in net.parameters() if not p.stop_gradient][0]
    before = fc.numpy().copy()
    opt = paddle.optimizer.Momentum(0.05, parameters=net.parameters())
    loss = F.cross_entropy(net(_x()), paddle.to_tensor([0, 3]))
    loss.backward()
    opt.step()
    opt.clear_grad()
    assert np.isfinite(float(loss))
    assert not np.array_equal(before, fc.numpy())
    return float(loss)


def _n_params(net):
    return sum(int(np.prod(p.shape)) for p in net.parameters())


def _eval(net, x):
    net.eval()
    with paddle.no_grad():
        return net(x).numpy()


# Hand counts (224-px probe): 3x3 convs (acblock: 3x3 and 5x5, depthwise included), activations outside SE
# gates, strided ConvBNActs + max-pools minus the stem conv, blocks, ConvBNActs in the two smallest resolutions.
EXPECTED = {
    "resnet18": {"acblock": 16, "coordconv": 16, "deformable": 16, "act": 17, "blurpool": 7, "attention": 8,
                 "drop_block": 10},
    "mobilenet_v2": {"acblock": 18, "coordconv": 1, "deformable": 1, "act": 35, "blurpool": 4, "attention": 17,
                     "drop_block": 33},
    "asymmnet_large": {"acblock": 16, "coordconv": 1, "deformable": 1, "act": 32, "blurpool": 4, "attention": 15,
                       "drop_block": 27},
}
GATE_RELUS = {"resnet18": 0, "mobilenet_v2": 0, "asymmnet_large": 8}  # AsymmNet-L: 8 SE blocks, one ReLU each
CASES = [
    ("acblock", {"conv3x3": "acblock"}, ACBlock),
    ("deformable", {"conv3x3": "deformable_v2"}, DeformableConv),
    ("act", {"act": "dyrelu_b"}, DyReLUB),
    ("act", {"act": "meta_acon_c"}, MetaAconC),
    ("blurpool", {"downsample": {"type": "blurpool", "pad_type": "replicate"}}, BlurPool),
    ("attention", {"attention": "se"}, SEModule),
    ("attention", {"attention": "nam"}, NAM),
    ("drop_block", {"drop_block": {"block_size": 3}}, DropBlock),
]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("key,tricks,cls", CASES, ids=[f"{k}-{list(t.values())[0]}" for k, t, _ in CASES])
def test_trick_builds_counts_and_trains(name, key, tricks, cls):
    net = _build(name, tricks)
    res = net.trick_report[0]
    assert res.converted == EXPECTED[name][key]
    # BlurPool: one per strided unit and one inside each MaxBlurPool; AsymmNet's own SE gates are another class
    assert _count(net, cls) == EXPECTED[name][key]
    assert _count_gate_relus(net) == GATE_RELUS[name]  # SE gate internals untouched
    _train_step(net)


def _count_gate_relus(net):
    return sum(isinstance(m, nn.ReLU) for g in net.sublayers() if type(g).__name__.endswith("SE")
               for m in g.sublayers())


def test_spconv_and_pyconv_on_resnet18():
    net = _build("resnet18", {"conv3x3": "spconv"})
    assert net.trick_report[0].converted == 16 and _count(net, SPConv) == 16
    # SPConv keeps the unit's BN (BN applied twice, as in the official networks)
    assert isinstance(net.layer1[0].conv1.bn, nn.BatchNorm2D)
    _train_step(net)
    net = _build("resnet18", {"conv3x3": "pyconv"})
    # PyConvResNet pyramids: stage 1 has 4 levels ... stage 4 one
    assert [len(getattr(net, f"layer{i}")[1].conv2.conv.levels) for i in (1, 2, 3, 4)] == [4, 3, 2, 1]
    assert net.layer1[0].conv1.conv.kernels == [3, 5, 7, 9] and net.layer1[0].conv1.conv.groups == [1, 4, 8, 16]
    assert _count(net, PyConv) == 16
    _train_step(net)


@pytest.mark.parametrize("name", ["mobilenet_v2", "asymmnet_large"])
def test_spconv_on_depthwise_nets_says_why(name):
    with pytest.raises(ValueError, match=r"spconv found nothing to convert(?=.*grouped or depthwise)(?=.*must be even)"):
        _build(name, {"conv3x3": "spconv"})


def test_spconv_skips_odd_maps_for_stride_two():
    net = _build("resnet18", {"conv3x3": "spconv", "input_size": 40})
    res = net.trick_report[0]
    assert res.converted == 14 and res.num_skipped == 2      # layer3.0 (5x5 input) and layer4.0 (3x3)
    assert all("even map" in r for r in res.skipped)
    net.eval()
    assert net(_x(1, 40)).shape == [1, 4]


@pytest.mark.parametrize("name", MODELS)
def test_acblock_reparameterises_to_plain_parameter_count(name):
    plain = _build(name)
    net = _build(name, {"conv3x3": "acblock"})
    _randomise_bn(net)
    x = _x(2, 32)
    before = _eval(net, x)
    assert _n_params(net) > _n_params(plain)
    reparameterize(net)
    reparameterize(plain)
    assert _n_params(net) == _n_params(plain)
    assert _count(net, nn.BatchNorm2D) == _count(plain, nn.BatchNorm2D)
    after = _eval(net, x)
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(before).max()))


def test_acblock_square_branch_starts_from_the_unit():
    plain = _build("asymmnet_large")
    _randomise_bn(plain)
    net = apply_tricks(copy.deepcopy(plain), {"conv3x3": "acblock"}, log=None)
    unit, old = net.blocks[3].dw, plain.blocks[3].dw      # 5x5 depthwise, stride 2
    assert isinstance(unit.bn, nn.Identity) and (unit.conv.kernel_size, unit.conv.stride) == (5, 2)
    assert unit.conv.groups == old.conv._groups == old.conv._in_channels
    np.testing.assert_array_equal(unit.conv.square_conv.weight.numpy(), old.conv.weight.numpy())
    np.testing.assert_array_equal(unit.conv.square_bn._mean.numpy(), old.bn._mean.numpy())
    # gamma_init=1/3 (ACNet's CIFAR setting) starts every branch BN at 1/3
    net = apply_tricks(copy.deepcopy(plain), {"conv3x3": {"type": "acblock", "gamma_init": 1 / 3}}, log=None)
    np.testing.assert_allclose(net.blocks[3].dw.conv.hor_bn.weight.numpy(), 1 / 3, rtol=1e-6)


@pytest.mark.parametrize("kind", ["coordconv", "deformable"])
def test_coordconv_and_dcn_v1_start_as_the_plain_net(kind):
    plain = _build("resnet18")
    _randomise_bn(plain)
    net = copy.deepcopy(plain)
    apply_tricks(net, {"conv3x3": kind}, log=None)
    x = _x(2, 32)
    np.testing.assert_allclose(_eval(net, x), _eval(plain, x), rtol=1e-4, atol=1e-4)
    assert _count(net, CoordConv if kind == "coordconv" else DeformableConv) == 16
    _train_step(net)


def test_dyrelu_with_zero_hyper_function_is_the_relu_net():
    plain = _build("resnet18")
    _randomise_bn(plain)
    net = copy.deepcopy(plain)
    apply_tricks(net, {"act": "dyrelu_b"}, log=None)
    for m in net.sublayers():
        if isinstance(m, DyReLUB):
            m.fc2.weight.set_value(paddle.zeros_like(m.fc2.weight))
            m.fc2.bias.set_value(paddle.zeros_like(m.fc2.bias))
    x = _x(2, 32)
    assert _count(net, nn.ReLU) == _count(net, DyReLUB) == 17   # the only ReLUs left are in the hyper-functions
    np.testing.assert_allclose(_eval(net, x), _eval(plain, x), rtol=1e-5, atol=1e-5)


def test_acon_c_at_p1_1_p2_0_beta_1_is_the_swish_net():
    base = _build("resnet18")
    _randomise_bn(base)
    swish = apply_tricks(copy.deepcopy(base), {"act": "swish"}, log=None)
    acon = apply_tricks(copy.deepcopy(base), {"act": {"type": "acon_c", "only": ["relu"]}}, log=None)
    for m in acon.sublayers():
        if isinstance(m, AconC):
            m.p1.set_value(paddle.ones_like(m.p1))
            m.p2.set_value(paddle.zeros_like(m.p2))
            m.beta.set_value(paddle.ones_like(m.beta))
    assert _count(swish, nn.Swish) == 17
    x = _x(2, 32)
    np.testing.assert_allclose(_eval(acon, x), _eval(swish, x), rtol=1e-4, atol=1e-4)
    _train_step(acon)


def test_act_only_filters_kinds_and_uses_unit_widths():
    net = _build("asymmnet_large", {"act": {"type": "dyrelu_b", "only": "relu"}})
    # relu rows of AsymmNet-L: 6 blocks, 5 of them with an expansion -> 11 activations; hswish ones stay
    assert _count(net, DyReLUB) == 11 and _count(net, nn.Hardswish) == 32 - 11
    assert net.blocks[3].dw.act.channels == net.blocks[3].dw.conv._out_channels


@pytest.mark.parametrize("name", MODELS)
def test_blurpool_with_filter_1_is_the_plain_net(name):
    # a 1-tap blur is plain subsampling: conv(s1) -> subsample == conv(s2), so the net must not change
    plain = _build(name)
    _randomise_bn(plain)
    net = apply_tricks(copy.deepcopy(plain), {"downsample": {"type": "blurpool", "filt_size": 1}}, log=None)
    strided = [m for m in net.sublayers() if isinstance(m, nn.Conv2D) and max(m._stride) > 1]
    assert len(strided) == 1  # only the stem conv keeps its stride (blur_stem: false)
    x = _x(2, 32)
    np.testing.assert_allclose(_eval(net, x), _eval(plain, x), rtol=1e-4, atol=1e-4)


def test_blurpool_placements_on_resnet18():
    net = _build("resnet18", {"downsample": "blurpool"})  # default filt 4, reflect; probe at 224
    assert isinstance(net.maxpool, MaxBlurPool) and net.maxpool.pool.ksize == 3
    assert max(net.stem.conv._stride) == 2
    down = net.layer2[0].downsample       # projection shortcut: blur first, then the 1x1 at stride 1
    assert isinstance(down, nn.Sequential) and isinstance(down[0], BlurPool) and down[1].conv._stride == [1, 1]
    unit = net.layer2[0].conv1            # 3x3: conv(s1) -> BN -> ReLU -> blur
    assert unit.conv._stride == [1, 1] and isinstance(unit.act[0], nn.ReLU) and isinstance(unit.act[1], BlurPool)
    net.eval()
    assert net.forward_features(_x(1, 64)).shape == [1, 512, 2, 2]
    stem = _build("resnet18", {"downsample": {"type": "blurpool", "blur_stem": True}})
    assert stem.trick_report[0].converted == 8 and stem.stem.conv._stride == [1, 1]


def test_blurpool_reflect_on_tiny_maps_names_the_fix():
    with pytest.raises(ValueError, match=r"2x2 map at input_size=32 is too small.*pad_type: replicate"):
        _build("resnet18", {"downsample": "blurpool", "input_size": 32})


def test_attention_sits_before_the_add():
    plain = _build("resnet18")
    _randomise_bn(plain)
    net = apply_tricks(copy.deepcopy(plain), {"attention": "se"}, log=None)
    assert isinstance(net.layer3[1].conv2.act, SEModule)  # after the last BN of the branch
    x = _x(2, 32)
    for m in net.sublayers():   # gate = 1: the plain net
        if isinstance(m, SEModule):
            m.fc2.weight.set_value(paddle.zeros_like(m.fc2.weight))
            m.fc2.bias.set_value(paddle.full_like(m.fc2.bias, 100.0))
    np.testing.assert_allclose(_eval(net, x), _eval(plain, x), rtol=1e-5, atol=1e-5)
    for m in net.sublayers():   # gate = 0: every block is act(shortcut)
        if isinstance(m, SEModule):
            m.fc2.bias.set_value(paddle.full_like(m.fc2.bias, -100.0))
    plain.eval()
    with paddle.no_grad():
        h = plain.maxpool(plain.stem(x))
        for stage in (plain.layer1, plain.layer2, plain.layer3, plain.layer4):
            for block in stage:
                h = F.relu(h if block.downsample is None else block.downsample(h))
        ref = plain.fc(plain.flatten(plain.pool(h))).numpy()
    np.testing.assert_allclose(_eval(net, x), ref, rtol=1e-5, atol=1e-5)


def test_attention_keeps_bn_foldable_and_finds_mobilenet_blocks():
    net = _build("mobilenet_v2", {"attention": "nam"})
    block = net.features[2]
    assert isinstance(block.project.act, NAM) and block.project.act.channels == block.project.conv._out_channels
    n_bn = _count(net, nn.BatchNorm2D)
    reparameterize(net)
    assert _count(net, nn.BatchNorm2D) == n_bn - sum(1 for m in net.sublayers() if isinstance(m, ConvBNAct))


@pytest.mark.parametrize("name", ["resnet18", "asymmnet_large"])
def test_drop_block_is_identity_in_eval_and_drops_in_training(name):
    plain = _build(name)
    net = apply_tricks(copy.deepcopy(plain), {"drop_block": {"block_size": 3, "keep_prob": 0.5}}, log=None)
    x = _x(2, 32)
    np.testing.assert_array_equal(_eval(net, x), _eval(plain, x))
    for model in (net, plain):
        model.train()
        for m in model.sublayers():
            if isinstance(m, nn.Dropout):   # AsymmNet's own dropout: keep it out of the comparison
                m.eval()
    with paddle.no_grad():
        assert not np.allclose(net(x).numpy(), plain(x).numpy())
    if name == "resnet18":   # groups 3 and 4 only, shortcut BN included, after the activation
        assert isinstance(net.layer3[0].downsample.act, DropBlock)
        assert isinstance(net.layer4[1].conv1.act[1], DropBlock) and isinstance(net.layer4[1].conv1.act[0], nn.ReLU)
        assert isinstance(net.layer2[1].conv1.act, nn.ReLU)


def test_dropout_keeps_parameter_names():
    plain = _build("resnet18")
    net = apply_tricks(copy.deepcopy(plain), {"dropout": 0.3}, log=None)
    assert isinstance(net.fc, DropoutLinear) and net.fc.dropout.p == 0.3
    assert list(net.state_dict()) == list(plain.state_dict())
    x = _x(2, 32)
    np.testing.assert_array_equal(_eval(net, x), _eval(plain, x))


def test_all_tricks_together_and_report(capsys):
    net = create_model("resnet18", num_classes=4)
    apply_tricks(net, {"conv3x3": "acblock", "act": "acon_c", "attention": "se", "drop_block": True,
                       "downsample": {"type": "blurpool", "pad_type": "replicate"}, "dropout": 0.1})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "tricks: dropout=0.1: 1 converted"
    assert [l.split("=")[0] for l in lines] == ["tricks: dropout", "tricks: downsample", "tricks: conv3x3",
                                                 "tricks: act", "tricks: attention", "tricks: drop_block"]
    assert "1× stem conv on the input image" in lines[1]
    assert net.layer2[0].conv1.conv.stride == 1          # ACBlock built after the blur took the stride
    _train_step(net)


@pytest.mark.parametrize("tricks,needle", [
    ({"conv3x4": "acblock"}, r"unknown trick 'conv3x4'; did you mean 'conv3x3'\?"),
    ({"conv3x3": "acblok"}, r"unknown type 'acblok'; did you mean 'acblock'\?"),
    ({"act": "dyrelu_d"}, r"unknown type 'dyrelu_d'.*valid: .*dyrelu_b"),
    ({"act": {"type": "acon_c", "reduction": 4}}, r"unknown option 'reduction'"),
    ({"act": {"type": "dyrelu_b", "only": ["rellu"]}}, r"unknown activation 'rellu'.*did you mean 'relu'"),
    ({"drop_block": {"keep_prob": 1.5}}, r"keep_prob must be in \(0, 1\]"),
    ({"drop_block": {"stages": "first2"}}, r"stages must be 'all', 'lastN'"),
    ({"conv3x3": {"ratio": 0.5}}, r"needs a 'type'"),
    ({"dropout": 1.0}, r"dropout must be a probability"),
    ({"input_size": 0}, r"input_size must be a positive integer"),
])
def test_bad_tricks_name_the_valid_choices(tricks, needle):
    net = create_model("resnet18", num_classes=4)
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match=needle):
        apply_tricks(net, tricks, log=None)
    assert list(net.state_dict()) == list(before)   # validated before any surgery


def test_not_a_mapping_is_a_type_error():
    with pytest.raises(TypeError, match="mapping"):
        apply_tricks(create_model("resnet18", num_classes=4), ["acblock"], log=None)


def test_bad_layer_arguments_name_the_constraint():
    with pytest.raises(ValueError, match=r"out_channels=7 must be even"):
        SPConv(8, 7)
    with pytest.raises(ValueError, match=r"int\(in_channels\*ratio\)=3 must be even"):
        SPConv(6, 8)
    with pytest.raises(ValueError, match=r"groups=4 at level 1 must divide in_channels=6"):
        PyConv(6, 8, kernels=[3, 5], groups=[1, 4])
    with pytest.raises(ValueError, match=r"groups=3 must divide in_channels=8"):
        ACBlock(8, 9, 3, groups=3)


def test_unknown_trick_in_a_config_is_a_config_error(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"_base_: {os.path.join(ROOT, 'configs/ablations/base_resnet18_shapes.yaml')}\n"
                   "Arch: {tricks: {attention: squeeze}}\n")
    with pytest.raises(ConfigError, match=r"^Arch\.tricks.*attention: unknown type 'squeeze'; valid: nam, se$"):
        build_network(load_config(str(cfg)))
    cfg.write_text(cfg.read_text().replace("{attention: squeeze}", "{conv3x4: acblock}"))
    with pytest.raises(ConfigError, match=r"^Arch\.tricks: unknown trick 'conv3x4'; did you mean 'conv3x3'\?"):
        build_network(load_config(str(cfg)))


def test_available_tricks_lists_every_type():
    avail = available_tricks()
    assert set(avail) == {"conv3x3", "act", "downsample", "attention", "drop_block", "dropout"}
    assert {"acblock", "spconv", "pyconv", "coordconv", "deformable", "deformable_v2"} == set(avail["conv3x3"])
    assert {"dyrelu_a", "dyrelu_b", "dyrelu_c", "acon_c", "meta_acon_c"} <= set(avail["act"])


ABLATIONS = sorted(glob.glob(os.path.join(ROOT, "configs", "ablations", "*.yaml")))


def test_ablation_configs_load_and_build():
    assert len(ABLATIONS) >= 15
    seen = set()
    for path in ABLATIONS:
        cfg = load_config(path)
        assert cfg["Arch"]["name"] == "resnet18" and cfg["Data"]["dataset"] == "quickstart"
        net = build_network(cfg)
        report = getattr(net, "trick_report", [])
        name = os.path.basename(path)[:-5]
        if name.startswith("base"):
            assert not cfg["Arch"]["tricks"] and not report
            continue
        assert cfg["Global"]["output_dir"].endswith(name)
        assert report or cfg["Loss"]["rdrop_alpha"] > 0
        seen.update(r.kind for r in report)
        if name == "rdrop":
            assert cfg["Loss"]["rdrop_alpha"] == 0.3 and isinstance(net.fc, DropoutLinear)
    assert {"acblock", "spconv", "pyconv", "coordconv", "deformable_v2", "dyrelu_b", "acon_c", "meta_acon_c",
            "blurpool", "se", "nam", "dropblock", "0.2"} <= seen
