"""Shared test helpers: non-trivial BatchNorm statistics and a jit export round trip."""
import numpy as np
import paddle
import paddle.nn as nn
from paddle.static import InputSpec


def randomise_bn(layer: nn.Layer) -> None:
    """Give every BatchNorm2D of ``layer`` random running statistics and affine parameters."""
    for m in layer.sublayers(include_self=True):
        if isinstance(m, nn.BatchNorm2D):
            c = m._num_features
            m._mean.set_value(paddle.uniform([c], min=-0.5, max=0.5))
            m._variance.set_value(paddle.uniform([c], min=0.2, max=2.0))
            m.weight.set_value(paddle.uniform([c], min=0.3, max=1.5))
            m.bias.set_value(paddle.uniform([c], min=-0.5, max=0.5))


def assert_export_roundtrip(layer: nn.Layer, x, tmp_path, dynamic_hw: bool = False, atol: float = 1e-5) -> None:
    """``paddle.jit.save`` the eval-mode ``layer``, load it back and compare outputs on ``x``."""
    layer.eval()
    ref = layer(x).numpy()
    shape = [None, x.shape[1]] + ([None, None] if dynamic_hw else list(x.shape[2:]))
    static = paddle.jit.to_static(layer, input_spec=[InputSpec(shape, "float32")], full_graph=True)
    path = str(tmp_path / "model")
    paddle.jit.save(static, path)
    loaded = paddle.jit.load(path)
    loaded.eval()
    np.testing.assert_allclose(loaded(x).numpy(), ref, rtol=1e-5, atol=atol)
