"""Model registry: ``register_model`` / ``create_model`` / ``list_models`` / ``model_cfg`` / ``model_options``.

Every model family module decorates its public constructors with ``@register_model(<default settings>)``;
a config names the model by that function name (``Arch.name``). Each model declares, like timm's
``pretrained_cfg``, its default input size, normalisation and smallest working input (``ModelCfg``), and
its options come from its signature (``models.options``), so ``Arch.options`` is checked key by key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import paddle.nn as nn

from ..utils.registry import Registry, UnknownNameError
from ..utils.schema import Key, check_options
from .options import signature_options

__all__ = ["MODELS", "ModelCfg", "IMAGENET", "CIFAR", "d2l_cfg", "UnknownModelError", "register_model",
           "list_models", "get_model_fn", "model_cfg", "model_options", "check_model_options", "create_model"]

MODELS = Registry("model", "list them with paddle_tricks.models.list_models()")
UnknownModelError = UnknownNameError

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class ModelCfg:
    """Default settings of a model (timm's ``pretrained_cfg``).

    Attributes:
        input_size: ``(channels, height, width)`` the model was designed for.
        mean, std: per-channel normalisation in [0, 1] pixel units (multiply by 255 for ``Normalize``).
        min_input_size: the smallest square side the model runs on (its down-sampling and heads allow it).
    """

    input_size: tuple[int, int, int] = (3, 224, 224)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    min_input_size: int = 32

    @property
    def in_channels(self) -> int:
        return self.input_size[0]


IMAGENET = ModelCfg()
CIFAR = ModelCfg((3, 32, 32), CIFAR10_MEAN, CIFAR10_STD, 16)


def d2l_cfg(size: int, min_input_size: int = 32) -> ModelCfg:
    """The d2l Fashion-MNIST setting: one channel resized to ``size``, pixels scaled to [0, 1] only."""
    return ModelCfg((1, size, size), (0.0,), (1.0,), min_input_size)


def register_model(cfg: ModelCfg | Callable | None = None, *, options_from: tuple = (), fixed: tuple = (),
                   options: dict[str, Key] | None = None):
    """Register a model constructor under its own name.

    Usable bare (``@register_model``, ImageNet settings) or as ``@register_model(cfg, options_from=(...))``.

    Args:
        cfg: the model's default settings.
        options_from: constructors whose keyword parameters a ``**options`` function passes on
            (for example the ``ResNet`` class); their parameters become options too.
        fixed: parameters of those constructors that the function sets itself (not options).
        options: extra or narrower option keys, over the ones read from the signatures.
    """
    def add(fn):
        spec = {}
        for target in options_from:
            spec.update(signature_options(target))
        spec.update(signature_options(fn))
        spec.update(options or {})
        for name in fixed:
            spec.pop(name, None)
        return MODELS.register(fn.__name__, cfg=cfg if isinstance(cfg, ModelCfg) else IMAGENET, options=spec)(fn)
    if callable(cfg) and not isinstance(cfg, ModelCfg):
        return add(cfg)
    return add


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a glob pattern."""
    return sorted(MODELS.names(pattern))


def get_model_fn(name: str) -> Callable[..., nn.Layer]:
    """The constructor registered as ``name``; ``UnknownModelError`` (a ``KeyError``) with the nearest names."""
    return MODELS.get(name)


def model_cfg(name: str) -> ModelCfg:
    """The default settings (input size, mean/std, smallest input) of model ``name``."""
    return MODELS.entry(name).info["cfg"]


def model_options(name: str) -> dict[str, Key]:
    """Option name -> ``Key`` of model ``name``: what ``Arch.options`` may hold for it."""
    return dict(MODELS.entry(name).info["options"])


def check_model_options(name: str, options: dict, where: str = "Arch.options") -> dict:
    """Check ``options`` for model ``name`` before anything is built.

    Raises:
        UnknownNameError: ``name`` is not registered.
        ConfigError: an unknown option (also a ``TypeError``) or a bad value (also a ``ValueError``),
            naming ``where.<option>``.
    """
    return check_options(options, model_options(name), where, f"model '{name}'")


def create_model(name: str, num_classes: int = 1000, **kwargs) -> nn.Layer:
    """Build the registered model ``name`` with ``num_classes`` outputs.

    Extra keyword arguments go to the constructor after ``check_model_options``: an argument it does
    not take (``TypeError``) or a value out of its bounds (``ValueError``) is refused before any layer exists.
    """
    fn = get_model_fn(name)
    return fn(num_classes=num_classes, **check_model_options(name, kwargs, where="options"))
