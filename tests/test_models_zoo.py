"""The classic model zoo: every model trains a step on a small input; parameter counts equal the references."""
import numpy as np
import paddle
import pytest

from paddle_tricks.layers import ConvBNAct, SEModule, SKConv, SplitAttention
from paddle_tricks.models import create_model, list_models
from paddle_tricks.models.resnet import BasicBlock, Bottleneck
from paddle_tricks.utils.complexity import count_params

# name -> (smallest sensible input size, extra options, default in_channels)
SMALL = {
    "lenet": (28, {}, 1),
    "lenet_bn": (28, {}, 1),
    "alexnet": (67, {"input_size": 67}, 1),
    "vgg11": (32, {"input_size": 32}, 1),
    "vgg11_small": (32, {"input_size": 32}, 1),
    "vgg16": (32, {"input_size": 32}, 3),
    "vgg19": (32, {"input_size": 32}, 3),
    "nin": (67, {}, 1),
    "googlenet": (32, {}, 1),
    "resnet18_d2l": (32, {}, 1),
    "densenet_d2l": (32, {}, 1),
    "resnet18": (32, {}, 3),
    "resnet34": (32, {}, 3),
    "resnet50": (32, {}, 3),
    "resnet101": (32, {}, 3),
    "resnet152": (32, {}, 3),
    "resnext50_32x4d": (32, {}, 3),
    "se_resnet50": (32, {}, 3),
    "densenet121": (32, {}, 3),
    "densenet169": (32, {}, 3),
    "densenet201": (32, {}, 3),
    "densenet161": (32, {}, 3),
    "densenet_bc_100": (16, {}, 3),
    "senet18": (16, {}, 3),
    "sknet50": (32, {}, 3),
    "resnest50": (32, {}, 3),
}


def test_all_zoo_models_registered():
    assert set(SMALL) <= set(list_models())


@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_backward_small_input(name):
    size, options, default_in = SMALL[name]
    in_channels = 3 if default_in == 1 else 1  # the non-default channel count must work too
    model = create_model(name, num_classes=3, in_channels=in_channels, **options)
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
