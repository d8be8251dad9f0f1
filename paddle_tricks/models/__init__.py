"""The model zoo. ``create_model(name, num_classes=..., **kwargs)`` builds any registered net.

Each family lives in its own module (``asymmnet.py``, ``mobilenetv2.py``, ``resnet.py``, ...);
importing this package imports every module so that their ``@register_model`` functions register.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from .build import build_network
from .registry import (CIFAR, IMAGENET, MODELS, ModelCfg, check_model_options, create_model, d2l_cfg, get_model_fn,
                       list_models, model_cfg, model_options, register_model)

for _mod in _pkgutil.iter_modules(__path__):
    if _mod.name not in ("registry", "build", "options") and not _mod.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["build_network", "CIFAR", "IMAGENET", "MODELS", "ModelCfg", "check_model_options", "create_model", "d2l_cfg",
           "get_model_fn", "list_models", "model_cfg", "model_options", "register_model"]
