"""Datasets (Caltech-16, Fashion-MNIST, the generated quickstart set, image folders) and config-built loaders.

Importing this package imports each of its modules, so every ``@register_dataset`` in them registers:
a new dataset is one module here.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from .build import build_datasets, build_loader
from .caltech16 import CALTECH16_CLASSES, Caltech16, caltech16_split
from .quickstart import ShapesDataset
from .registry import DATASETS, check_dataset_options, dataset_options, register_dataset
from .transforms import build_transforms

for _mod in _pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["build_datasets", "build_loader", "CALTECH16_CLASSES", "Caltech16", "caltech16_split",
           "ShapesDataset", "build_transforms", "DATASETS", "check_dataset_options", "dataset_options",
           "register_dataset"]
