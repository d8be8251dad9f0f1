"""Datasets (Caltech-16, Fashion-MNIST, the generated quickstart set, image folders) and config-built loaders."""
from .build import build_datasets, build_loader
from .caltech16 import CALTECH16_CLASSES, Caltech16, caltech16_split
from .quickstart import ShapesDataset
from .transforms import build_transforms

__all__ = ["build_datasets", "build_loader", "CALTECH16_CLASSES", "Caltech16", "caltech16_split",
           "ShapesDataset", "build_transforms"]
