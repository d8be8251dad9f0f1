"""Exponential moving average of model weights (Polyak & Juditsky, SIAM J. Control Optim. 1992).

``e ← d·e + (1−d)·m`` after every optimizer step, over the whole ``state_dict`` (so BatchNorm running
mean and variance are averaged too), kept in fp32. ``Paddle`` has no dygraph EMA
(``paddle.static.ExponentialMovingAverage`` is static-graph only), hence this class. With ``warmup`` the decay
is ``min(d, (1+t)/(10+t))`` at step t, as TensorFlow's ``ExponentialMovingAverage(num_updates=t)`` does, so
a short run is not stuck near the initial weights. With ``interval`` k the average moves every k steps with
decay dᵏ (mmengine's EMA hook ``interval``), so it spans the same number of steps at a k-th of the cost.

Speed: 1-D views of the model's tensors are taken once, at the first update, and each update is in place
(``lerp_``), with no ``state_dict()``. The small tensors (up to ``FUSE_MAX_VALUES`` values: biases, norm
weights and statistics, depthwise kernels; 90 % of MobileNetV2's tensors, 10 % of its values) are fused: one
``concat`` of the model's and one ``lerp_`` over a flat EMA buffer, since a kernel call costs more than their
data; the larger ones get one ``lerp_`` each. 1-D because Paddle's CPU ``lerp`` is about 30 % slower on 4-D
shapes. The kernels are called through ``paddle._C_ops`` (``lerp_``, ``concat``): the public wrappers check
and broadcast shapes on every call, which here are fixed at the first update, and cost 5 % of an update.
``benchmarks/bench_ema.py`` measures it against one ``lerp_`` over a single flat buffer.
"""
from __future__ import annotations

import contextlib
import math

import paddle
import paddle.nn as nn
from paddle import _C_ops

__all__ = ["ModelEMA", "FUSE_MAX_VALUES"]

# tensors up to this size are averaged in one fused kernel (the fastest of 0, 2k, 8k, 32k on MobileNetV2)
FUSE_MAX_VALUES = 8192

_FLOAT_DTYPES = (paddle.float16, paddle.float32, paddle.float64, paddle.bfloat16)


class ModelEMA:
    """An fp32 EMA of ``model``'s state; take it before ``Model.prepare`` (AMP O2 casts the model there).

    The model's tensors are looked up at the first ``update`` (after ``prepare``), and again when ``update``
    is given another model object or the model's tensors got new storage (a cast or move); a model in
    fp16/bf16 (AMP O2) is cast to fp32 on update.

    Args:
        model: the network whose weights are averaged.
        decay: the EMA decay d.
        warmup: use ``min(d, (1+t)/(10+t))`` at step t.
        interval: update every ``interval`` optimizer steps, with decay ``d ** interval``.
    """

    def __init__(self, model: nn.Layer, decay: float = 0.9999, warmup: bool = True, interval: int = 1):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        if int(interval) != interval or interval < 1:
            raise ValueError(f"EMA interval must be a positive integer, got {interval}")
        self.decay, self.warmup, self.interval = decay, warmup, int(interval)
        self.updates = 0   # averaging steps taken
        self.steps = 0     # optimizer steps seen
        state = {k: v for k, v in model.state_dict().items() if v.dtype in _FLOAT_DTYPES}
        self._shapes = {k: list(v.shape) for k, v in state.items()}
        self._fused_names = [k for k, v in state.items() if math.prod(v.shape) <= FUSE_MAX_VALUES]
        self._separate_names = [k for k in state if k not in set(self._fused_names)]
        self._set_values(state)
        self._weight = paddle.zeros([], dtype="float32")   # 1 - decay of the current update
        self._model_id = None
        self._sources: list = []         # the model's tensors: fused ones, then separate ones
        self._views: list = []           # their 1-D views, in the same order
        self._fused_cast = False         # some fused source is not fp32

    def current_decay(self) -> float:
        """The decay one optimizer step of the next update stands for (before ``** interval``)."""
        if not self.warmup:
            return self.decay
        t = self.steps
        return min(self.decay, (1.0 + t) / (10.0 + t))

    @paddle.no_grad()
    def update(self, model: nn.Layer) -> None:
        """Count one optimizer step; every ``interval``-th step, move the EMA towards ``model``'s state."""
        decay = self.current_decay() ** self.interval
        self.steps += 1
        if self.steps % self.interval:
            return
        if self._model_id != id(model) or not self._views_current():
            self._find_sources(model)
        weight = self._weight
        weight.fill_(1.0 - decay)
        n_fused = len(self._fused_names)
        if n_fused:
            fused = self._views[:n_fused]
            if self._fused_cast:
                fused = [v.astype("float32") for v in fused]
            _C_ops.lerp_(self._fused, _C_ops.concat(fused, 0), weight)
        for average, source in zip(self._separate, self._views[n_fused:]):
            _C_ops.lerp_(average, source if source.dtype == paddle.float32 else source.astype("float32"), weight)
        self.updates += 1

    def _views_current(self) -> bool:
        """Whether the 1-D views still share storage with the model's tensors (never, where a Paddle
        without ``data_ptr`` or view-making ``reshape`` cannot say: the views are then taken at every update)."""
        try:
            return all(view.data_ptr() == source.data_ptr() for view, source in zip(self._views, self._sources))
        except AttributeError:
            return False

    def _find_sources(self, model: nn.Layer) -> None:
        state = model.state_dict()
        names = self._fused_names + self._separate_names
        missing = [k for k in names if k not in state]
        if missing:
            raise KeyError(f"the model has no {missing[:3]}: not the one the EMA was taken from")
        self._sources = [state[k] for k in names]
        self._views = [t.reshape([-1]) for t in self._sources]
        self._fused_cast = any(t.dtype != paddle.float32 for t in self._sources[:len(self._fused_names)])
        self._model_id = id(model)

    def _set_values(self, state: dict) -> None:
        """Take the EMA values from ``state`` (name -> tensor of this model's shapes), as fp32."""
        flat = {k: state[k].detach().astype("float32").reshape([-1]) for k in self._shapes}
        fused = [flat[k] for k in self._fused_names]
        self._fused = paddle.concat(fused) if fused else paddle.zeros([0], dtype="float32")
        self._separate = [flat[k].clone() for k in self._separate_names]

    def weights(self) -> dict:
        """The EMA weights, name -> fp32 tensor, loadable with ``model.set_state_dict``.

        The fused tensors are fresh copies; the others share the EMA's storage (save them before the next
        update)."""
        sizes = [math.prod(self._shapes[k]) for k in self._fused_names]
        fused = paddle.split(self._fused, sizes) if sizes else []
        out = {k: t.reshape(self._shapes[k]).clone() for k, t in zip(self._fused_names, fused)}
        out.update((k, e.reshape(self._shapes[k])) for k, e in zip(self._separate_names, self._separate))
        return out

    def state_dict(self) -> dict:
        """The EMA weights (a model state dict) plus the counters under ``'__ema_updates__'``/``'__ema_steps__'``."""
        out = self.weights()
        out["__ema_updates__"] = self.updates
        out["__ema_steps__"] = self.steps
        return out

    def set_state_dict(self, state: dict) -> None:
        """Restore from ``state_dict()``; a state saved before ``'__ema_steps__'`` existed counts one step
        per update."""
        state = dict(state)
        self.updates = int(state.pop("__ema_updates__", 0))
        self.steps = int(state.pop("__ema_steps__", self.updates * self.interval))
        missing = sorted(set(self._shapes) - set(state))
        if missing:
            raise KeyError(f"EMA state lacks {missing[:3]}")
        loaded = {k: state[k] if isinstance(state[k], paddle.Tensor) else paddle.to_tensor(state[k])
                  for k in self._shapes}
        for k, v in loaded.items():
            if list(v.shape) != self._shapes[k]:
                raise ValueError(f"EMA state {k} has shape {list(v.shape)}, this model's {self._shapes[k]}")
        self._set_values(loaded)

    @paddle.no_grad()
    def copy_to(self, model: nn.Layer) -> None:
        """Write the EMA values into ``model`` (cast to each tensor's dtype)."""
        state = model.state_dict()
        for k, e in self.weights().items():
            state[k].set_value(e.astype(state[k].dtype))

    @contextlib.contextmanager
    def swapped_in(self, model: nn.Layer):
        """Inside the block ``model`` holds the EMA weights; its own are restored afterwards."""
        backup = {k: v.detach().clone() for k, v in model.state_dict().items() if k in self._shapes}
        self.copy_to(model)
        try:
            yield model
        finally:
            state = model.state_dict()
            with paddle.no_grad():
                for k, v in backup.items():
                    state[k].set_value(v)
