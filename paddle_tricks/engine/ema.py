"""Exponential moving average of model weights (Polyak & Juditsky, SIAM J. Control Optim. 1992).

``e ← d·e + (1−d)·m`` after every optimizer step, over the whole ``state_dict`` (so BatchNorm running
mean and variance are averaged too), kept in fp32. ``Paddle`` has no dygraph EMA
(``paddle.static.ExponentialMovingAverage`` is static-graph only), hence this class. With ``warmup`` the decay
is ``min(d, (1+t)/(10+t))`` at update t, as TensorFlow's ``ExponentialMovingAverage(num_updates=t)`` does, so
a short run is not stuck near the initial weights.
"""
from __future__ import annotations

import contextlib

import paddle
import paddle.nn as nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """An fp32 EMA of ``model``'s state; take it before ``Model.prepare`` (AMP O2 casts the model there).

    Args:
        model: the network whose weights are averaged.
        decay: the EMA decay d.
        warmup: use ``min(d, (1+t)/(10+t))``.
    """

    def __init__(self, model: nn.Layer, decay: float = 0.9999, warmup: bool = True):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.warmup, self.updates = decay, warmup, 0
        self.shadow = {k: v.detach().astype("float32").clone() for k, v in model.state_dict().items()
                       if _is_float(v)}

    def current_decay(self) -> float:
        """The decay the next update will use."""
        if not self.warmup:
            return self.decay
        t = self.updates
        return min(self.decay, (1.0 + t) / (10.0 + t))

    @paddle.no_grad()
    def update(self, model: nn.Layer) -> None:
        """One EMA step towards ``model``'s current state."""
        d = self.current_decay()
        state = model.state_dict()
        for k, e in self.shadow.items():
            m = state[k].detach().astype("float32")
            e.set_value(e * d + m * (1.0 - d))
        self.updates += 1

    @paddle.no_grad()
    def copy_to(self, model: nn.Layer) -> None:
        """Write the EMA values into ``model`` (cast to each tensor's dtype)."""
        state = model.state_dict()
        for k, e in self.shadow.items():
            state[k].set_value(e.astype(state[k].dtype))

    @contextlib.contextmanager
    def swapped_in(self, model: nn.Layer):
        """Inside the block ``model`` holds the EMA weights; its own are restored afterwards."""
        backup = {k: v.detach().clone() for k, v in model.state_dict().items() if k in self.shadow}
        self.copy_to(model)
        try:
            yield model
        finally:
            state = model.state_dict()
            with paddle.no_grad():
                for k, v in backup.items():
                    state[k].set_value(v)

    def state_dict(self) -> dict:
        """The EMA weights (a model state dict) plus the update counter under ``'__ema_updates__'``."""
        out = dict(self.shadow)
        out["__ema_updates__"] = self.updates
        return out

    def weights(self) -> dict:
        """The EMA weights alone, loadable with ``model.set_state_dict``."""
        return dict(self.shadow)

    def set_state_dict(self, state: dict) -> None:
        """Restore from ``state_dict()``."""
        state = dict(state)
        self.updates = int(state.pop("__ema_updates__", 0))
        missing = set(self.shadow) - set(state)
        if missing:
            raise KeyError(f"EMA state lacks {sorted(missing)[:3]}")
        for k in self.shadow:
            v = state[k]
            v = v.detach().clone() if isinstance(v, paddle.Tensor) else paddle.to_tensor(v)
            self.shadow[k] = v.astype("float32")


def _is_float(t) -> bool:
    return t.dtype in (paddle.float16, paddle.float32, paddle.float64, paddle.bfloat16)
