"""layer_shapes / print_layer_shapes reproduce the layer tables printed in the d2l article."""
import pytest

from paddle_tricks.models import create_model
from paddle_tricks.utils.complexity import count_params
from paddle_tricks.utils.summary import layer_shapes, print_layer_shapes


def _shapes(rows):
    return [r[2] for r in rows]


def _classes(rows):
    return [r[1] for r in rows]


def test_lenet_table():
    rows = layer_shapes(create_model("lenet", num_classes=10), (1, 1, 28, 28))
    # the article's table, without its input Reshape row
    assert _classes(rows) == ["Conv2D", "Sigmoid", "AvgPool2D", "Conv2D", "Sigmoid", "AvgPool2D", "Flatten",
                              "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert _shapes(rows) == [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 10, 10),
                             (1, 16, 5, 5), (1, 400), (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]
    # parameters per row: 6*25+6, 16*6*25+16, 400*120+120, 120*84+84, 84*10+10
    assert [r[3] for r in rows if r[3]] == [156, 2416, 48120, 10164, 850]
    assert [r[0] for r in rows] == [str(i) for i in range(12)]


def test_vgg11_table():
    net = create_model("vgg11", num_classes=10)
    assert count_params(net) == 128_806_154  # d2l's VGG-11 for 10 classes
    rows = layer_shapes(net, (1, 1, 224, 224))
    assert _classes(rows) == ["Sequential"] * 5 + ["Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU",
                                                   "Dropout", "Linear"]
    assert _shapes(rows) == [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14),
                             (1, 512, 7, 7), (1, 25088), (1, 4096), (1, 4096), (1, 4096), (1, 4096),
                             (1, 4096), (1, 4096), (1, 10)]


def test_nin_table():
    rows = layer_shapes(create_model("nin", num_classes=10), (1, 1, 224, 224))
    assert _classes(rows) == ["Sequential", "MaxPool2D", "Sequential", "MaxPool2D", "Sequential", "MaxPool2D",
                              "Dropout", "Sequential", "AdaptiveAvgPool2D", "Flatten"]
    assert _shapes(rows) == [(1, 96, 54, 54), (1, 96, 26, 26), (1, 256, 26, 26), (1, 256, 12, 12),
                             (1, 384, 12, 12), (1, 384, 5, 5), (1, 384, 5, 5), (1, 10, 5, 5), (1, 10, 1, 1),
                             (1, 10)]


def test_googlenet_table():
    rows = layer_shapes(create_model("googlenet", num_classes=10), (1, 1, 96, 96))
    assert _classes(rows) == ["Sequential"] * 5 + ["Linear"]
    assert _shapes(rows) == [(1, 64, 24, 24), (1, 192, 12, 12), (1, 480, 6, 6), (1, 832, 3, 3), (1, 1024),
                             (1, 10)]


def test_resnet18_d2l_tables():
    net = create_model("resnet18_d2l", num_classes=10)
    tail_classes = ["AdaptiveAvgPool2D", "Flatten", "Linear"]
    rows = layer_shapes(net, (1, 1, 224, 224))  # the article's table
    assert _classes(rows) == ["Sequential"] * 5 + tail_classes
    assert _shapes(rows) == [(1, 64, 56, 56), (1, 64, 56, 56), (1, 128, 28, 28), (1, 256, 14, 14),
                             (1, 512, 7, 7), (1, 512, 1, 1), (1, 512), (1, 10)]
    rows = layer_shapes(net, (1, 1, 96, 96))  # the training resolution
    assert _shapes(rows) == [(1, 64, 24, 24), (1, 64, 24, 24), (1, 128, 12, 12), (1, 256, 6, 6),
                             (1, 512, 3, 3), (1, 512, 1, 1), (1, 512), (1, 10)]


def test_depth_mode_and_printing(capsys):
    net = create_model("resnet18_d2l", num_classes=10)
    net.train()
    rows = layer_shapes(net, (2, 1, 64, 64), depth=2)
    assert net.training  # mode restored
    assert [r[0] for r in rows[:4]] == ["0.0", "0.1", "1.0", "1.1"]
    assert [r[1] for r in rows[:3]] == ["ConvBNAct", "MaxPool2D", "Residual"]
    assert rows[0][2] == (2, 64, 32, 32)
    assert rows[-1] == ("7", "Linear", (2, 10), 5130)
    text = print_layer_shapes(create_model("lenet", num_classes=10), (1, 1, 28, 28))
    out = capsys.readouterr().out
    assert out.strip() == text.strip()
    first = text.splitlines()[0]
    assert "Conv2D" in first and "[1, 6, 28, 28]" in first and "156" in first
    assert text.splitlines()[-1] == "total params: 61,706"  # d2l's LeNet: 61,706 parameters
    with pytest.raises(ValueError, match="depth"):
        layer_shapes(net, (1, 1, 28, 28), depth=0)
