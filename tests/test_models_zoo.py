"""The classic model zoo: every model trains a step on a small input; parameter counts equal the references."""
import numpy as np
import paddle
import pytest

from paddle_tricks.layers import ConvBNAct, SEModule, SKConv, SplitAttention
from paddle_tricks.models import create_model, list_models, model_cfg, model_options
from paddle_tricks.models.resnet import BasicBlock, Bottleneck
from paddle_tricks.utils.complexity import count_params

def test_every_registered_model_declares_consistent_default_settings():
    names = list_models()
    assert {"asymmnet_small", "asymmnet_large", "mobilenet_v2", "spp_net", "resnet50", "lenet"} <= set(names)
    for name in names:
        cfg = model_cfg(name)
        channels, height, width = cfg.input_size
        assert height == width >= cfg.min_input_size >= 8, name
        assert len(cfg.mean) == len(cfg.std) == channels, name
        options = model_options(name)
        # the constructor's own defaults agree with the declared settings
        assert options["in_channels"].default == channels, name
        if options.get("input_size") is not None and options["input_size"].default is not None:
            assert options["input_size"].default == height, name


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_at_the_smallest_declared_input(name):
    cfg = model_cfg(name)
    size = cfg.min_input_size
    in_channels = 3 if cfg.in_channels == 1 else 1  # the non-default channel count must work too
    extra = {"input_size": size} if "input_size" in model_options(name) else {}
    model = create_model(name, num_classes=3, in_channels=in_channels, **extra)
    model.train()
    x = paddle.randn([2, in_channels, size, size])
    y = model(x)
    assert y.shape == [2, 3]
    loss = paddle.nn.functional.cross_entropy(y, paddle.to_tensor([0, 2]))
    loss.backward()
    params = [p for p in model.parameters() if not p.stop_gradient]
    first, last = params[0], params[-1]
    assert first.shape[1] == in_channels  # the stem really takes in_channels
    for p in (first, last):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


@pytest.mark.parametrize("name", list_models())
def test_options_read_from_the_signature_are_checked_before_building(name):
    with pytest.raises(TypeError, match=f"options.no_such_option is not an option of model '{name}'"):
        create_model(name, num_classes=3, no_such_option=1)
    with pytest.raises(ValueError, match="options.in_channels must be an integer from 1 to 64, got 0"):
        create_model(name, num_classes=3, in_channels=0)


def test_shared_options_are_bounded_so_a_build_stays_in_memory():
    with pytest.raises(ValueError, match="width_mult must be a number > 0 and <= 4, got 1000"):
        create_model("mobilenet_v2", width_mult=1000)
    with pytest.raises(ValueError, match="input_size must be an integer from 8 to 256 or null, got 10000"):
        create_model("vgg16", input_size=10000)
    with pytest.raises(ValueError, match="hidden must be an integer from 1 to 8192"):
        create_model("spp_net", hidden=10 ** 9)
    # options passed on to a family constructor are options; the ones the name fixes are not
    assert "groups" in model_options("resnet50") and "groups" not in model_options("resnext50_32x4d")
    assert {"radix", "avd", "avd_first"} <= set(model_options("resnest50"))
    assert "stride" not in model_options("resnest50")


def test_activation_and_attention_options_take_the_registered_names():
    from paddle_tricks.layers.create_act import ACTIVATIONS
    with pytest.raises(ValueError, match="act must be an activation name: relu, .*hswish.*, got 'rleu'"):
        create_model("resnet18", num_classes=3, act="rleu")
    with pytest.raises(ValueError, match="attn_layer must be null or an attention name: .*se.*, got 'cbam'"):
        create_model("resnet18", num_classes=3, attn_layer="cbam")
    assert model_options("spp_net")["act"].check("HSwish") and "hswish" in ACTIVATIONS
    assert model_options("senet18")["attn_layer"].check(None) and model_options("resnet18")["attn_layer"].check("nam")


# trainable parameters at 1000 classes: torchvision / paddle.vision counts (equal to each other),
# Cadene's SE-ResNet-50 (28.09 M)
PUBLISHED = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
    "se_resnet50": 28_088_024,
    "densenet121": 7_978_856, "densenet169": 14_149_480, "densenet201": 20_013_928,
    "densenet161": 28_681_000,
    "vgg16": 138_357_544, "vgg19": 143_667_240,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_equal_references(name):
    assert count_params(create_model(name, num_classes=1000)) == PUBLISHED[name]


def test_resnet50_equals_paddle_vision():
    ref = paddle.vision.models.resnet50()
    expected = sum(int(p.numel()) for p in ref.parameters() if not p.stop_gradient)
    assert count_params(create_model("resnet50")) == expected == 25_557_032


def test_attention_nets_parameter_counts():
    # SKNet-50 27.5 M (implus/SKNet README); ResNeSt-50 27.5 M (paper), official code 27.48 M
    sk = count_params(create_model("sknet50"))
    assert abs(sk - 27.5e6) / 27.5e6 < 0.02
    rs = count_params(create_model("resnest50"))
    assert abs(rs - 27.5e6) / 27.5e6 < 0.02
    assert abs(rs - 27_483_240) < 2_000  # official count minus the 1,888 fc1 biases cancelled by BN
    # DenseNet-BC-100 (k=12) for CIFAR-10: 0.8 M in the paper
    assert round(count_params(create_model("densenet_bc_100", num_classes=10)) / 1e6, 1) == 0.8


def _senet18_params(nc):
    """Hand count of the CIFAR SENet-18: stem conv+BN, pre-act SE blocks, linear head."""
    total = 3 * 64 * 9 + 2 * 64
    c = 64
    for planes in (64, 128, 256, 512):
        for j in range(2):
            r = planes // 16
            total += 2 * c + c * planes * 9 + 2 * planes + planes * planes * 9   # bn1, conv1, bn2, conv2
            total += planes * r + r + r * planes + planes                        # SE fc1, fc2 (with bias)
            if c != planes:
                total += c * planes                                              # 1x1 projection
            c = planes
    return total + 512 * nc + nc


def test_d2l_and_senet_parameter_counts():
    assert count_params(create_model("senet18", num_classes=10)) == _senet18_params(10) == 11_260_354
    # d2l LeNet: 6*25+6 + 16*6*25+16 + 400*120+120 + 120*84+84 + 84*10+10
    assert count_params(create_model("lenet", num_classes=10)) == 61_706
    # d2l AlexNet at 224: convs + 6400-4096-4096-10
    alex = (96 * 121 + 96 + 256 * 96 * 25 + 256 + 384 * 256 * 9 + 384 + 384 * 384 * 9 + 384
            + 256 * 384 * 9 + 256 + 6400 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10)
    assert count_params(create_model("alexnet", num_classes=10)) == alex == 46_764_746


class _Zero(paddle.nn.Layer):
    def forward(self, x):
        return x * 0.0


def test_attn_layer_sits_on_residual_branch_before_add():
    x = paddle.randn([2, 16, 6, 6])
    blk = BasicBlock(16, 16, attn_layer=lambda c: _Zero())
    np.testing.assert_allclose(blk(x).numpy(), np.maximum(x.numpy(), 0.0))  # relu(0 + identity)
    blk = Bottleneck(64, 16, attn_layer="se")
    assert isinstance(blk.attn, SEModule) and blk.attn.channels == 64
    net = create_model("se_resnet50", num_classes=10)
    assert isinstance(net.layer4[0].attn, SEModule) and net.layer4[0].attn.rd_channels == 128
    with pytest.raises(ValueError, match="attention"):
        BasicBlock(16, 16, attn_layer="cbam")


def test_backbones_built_from_convbnact():
    for name in ("resnet50", "sknet50", "resnest50"):
        net = create_model(name, num_classes=10)
        convs = [l for l in net.sublayers() if isinstance(l, paddle.nn.Conv2D)]
        wrapped = {id(l.conv) for l in net.sublayers() if isinstance(l, ConvBNAct)}
        bare = [c for c in convs if id(c) not in wrapped]
        # only the attention "FC" convs without BN are bare
        allowed = {id(l.fc_select) for l in net.sublayers() if isinstance(l, SKConv)}
        allowed |= {id(l.fc2) for l in net.sublayers() if isinstance(l, SplitAttention)}
        assert all(id(c) in allowed for c in bare), name


def test_resnest_and_sknet_structure():
    net = create_model("resnest50", num_classes=10)
    stem = [m.conv for m in net.stem]
    assert [c.weight.shape[0] for c in stem] == [32, 32, 64]
    assert stem[0]._stride == [2, 2]
    down = net.layer2[0].downsample  # avg-down shortcut
    assert isinstance(down[0], paddle.nn.AvgPool2D) and down[1].conv._stride == [1, 1]
    assert isinstance(net.layer2[0].avd_pool, paddle.nn.AvgPool2D)       # avd where the block downsamples
    assert isinstance(net.layer1[0].avd_pool, paddle.nn.Identity)
    assert isinstance(net.layer2[1].avd_pool, paddle.nn.Identity)
    sa = net.layer3[0].conv2
    assert isinstance(sa, SplitAttention) and sa.radix == 2 and sa.conv.conv._stride == [1, 1]
    sk = create_model("sknet50", num_classes=10)
    sks = [blk.conv2 for layer in (sk.layer1, sk.layer2, sk.layer3, sk.layer4) for blk in layer]
    assert all(isinstance(s, SKConv) for s in sks)
    assert [layer[0].conv2.out_channels for layer in (sk.layer1, sk.layer2, sk.layer3, sk.layer4)] == \
        [128, 256, 512, 1024]
    assert [layer[0].conv2.dim for layer in (sk.layer1, sk.layer2, sk.layer3, sk.layer4)] == [32, 32, 32, 64]
    assert sk.layer2[0].conv2.branches[1].conv._stride == [2, 2]


def test_lenet_bn_scratch_equals_paddle_bn():
    ref = create_model("lenet_bn", num_classes=10)
    mine = create_model("lenet_bn", num_classes=10, bn="scratch")
    mine.set_state_dict(ref.state_dict())
    x = paddle.randn([4, 1, 28, 28])
    for mode in ("train", "eval"):
        getattr(ref, mode)()
        getattr(mine, mode)()
        np.testing.assert_allclose(mine(x).numpy(), ref(x).numpy(), rtol=1e-4, atol=1e-5)


def test_vgg_conv_arch_and_xavier_init():
    from paddle_tricks.models.classic import vgg
    net = vgg(((1, 8), (2, 16)), num_classes=5, input_size=32, hidden=64)
    convs = [l for l in net.sublayers() if isinstance(l, paddle.nn.Conv2D)]
    assert [c.weight.shape[0] for c in convs] == [8, 16, 16]
    assert net[3].weight.shape == [16 * 8 * 8, 64]  # two poolings: 32 -> 8
    # Xavier-uniform bound sqrt(6 / (fan_in + fan_out)) for the 16*64 -> 64 layer
    bound = np.sqrt(6.0 / (16 * 64 + 64))
    w = net[3].weight.numpy()
    assert np.abs(w).max() <= bound + 1e-6 and np.abs(w).max() > 0.9 * bound
    with pytest.raises(ValueError, match="init"):
        vgg(((1, 8),), init="he")  # rejected before any layer is built
