"""Batch normalisation written out with tensor operations, for teaching and for checking Paddle's layer.

Paper: Ioffe S., Szegedy C., "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
Covariate Shift", ICML 2015, arXiv 1502.03167.

``BatchNormScratch`` reproduces ``paddle.nn.BatchNorm1D`` / ``BatchNorm2D`` exactly, including the parts where
Paddle's conventions differ from the paper or from other frameworks (checked by experiment on Paddle 3.3 and
proven in ``tests/test_batchnorm_scratch.py``):

* training normalises with the batch mean and the **biased** batch variance (divide by ``m``);
* the moving statistics follow Paddle's momentum convention ``running = momentum * running + (1 - momentum)
  * batch`` with ``momentum = 0.9`` (PyTorch's ``momentum = 0.1`` means the same), and the moving variance is
  updated with the **biased** batch variance too (the paper and PyTorch use the unbiased ``m / (m - 1)``
  estimate there);
* evaluation normalises with the moving statistics; ``epsilon = 1e-5`` is added to the variance.

The statistics are persistable buffers named like Paddle's (``_mean``, ``_variance``) and the affine
parameters are ``weight`` and ``bias``, so state dicts can be exchanged with Paddle's layers.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

__all__ = ["BatchNormScratch"]


class BatchNormScratch(nn.Layer):
    """Batch normalisation over every axis but the channel axis 1.

    Accepts ``(N, C)`` and ``(N, C, L)`` inputs (like ``BatchNorm1D``) and ``(N, C, H, W)`` inputs (like
    ``BatchNorm2D``).

    Args:
        num_features: channels ``C``.
        momentum: weight of the old moving statistics in each update (Paddle convention, 0.9).
        epsilon: added to the variance before the square root.
    """

    def __init__(self, num_features: int, momentum: float = 0.9, epsilon: float = 1e-5):
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormScratch: momentum must be in [0, 1], got {momentum}")
        self.num_features = num_features
        self.momentum = momentum
        self.epsilon = epsilon
        self.weight = self.create_parameter([num_features], default_initializer=nn.initializer.Constant(1.0))
        self.bias = self.create_parameter([num_features], is_bias=True,
                                          default_initializer=nn.initializer.Constant(0.0))
        self.register_buffer("_mean", paddle.zeros([num_features]), persistable=True)
        self.register_buffer("_variance", paddle.ones([num_features]), persistable=True)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"BatchNormScratch expects a 2-D, 3-D or 4-D input, got shape {list(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNormScratch: input has {x.shape[1]} channels, expected {self.num_features}")
        axes = [0] + list(range(2, x.ndim))
        shape = [1, self.num_features] + [1] * (x.ndim - 2)
        if self.training:
            mean = x.mean(axis=axes, keepdim=True)
            var = ((x - mean) ** 2).mean(axis=axes, keepdim=True)  # biased
            with paddle.no_grad():
                m = self.momentum
                paddle.assign(m * self._mean + (1.0 - m) * mean.reshape([-1]), output=self._mean)
                paddle.assign(m * self._variance + (1.0 - m) * var.reshape([-1]), output=self._variance)
        else:
            mean = self._mean.reshape(shape)
            var = self._variance.reshape(shape)
        x_hat = (x - mean) / paddle.sqrt(var + self.epsilon)
        return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, momentum={self.momentum}, epsilon={self.epsilon}"
