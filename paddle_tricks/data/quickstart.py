"""A generated image set for the quickstart: 16 classes of drawn shapes, no download needed.

Class = (shape, colour) with 4 shapes (disc, square, triangle, cross) and 4 colours (red, green, blue,
yellow). Each image draws one shape of random size and position on a noisy grey background, with jittered
colour, so the task needs both shape and colour. Generation is deterministic for a given seed.
"""
from __future__ import annotations

import numpy as np
import paddle
from PIL import Image, ImageDraw

from ..utils.schema import int_range
from .registry import register_dataset

__all__ = ["ShapesDataset", "SHAPES", "COLOURS", "QUICKSTART_CLASSES", "MAX_IMAGE_BYTES", "check_budget"]

SHAPES = ["disc", "square", "triangle", "cross"]
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220), "yellow": (230, 210, 40)}
QUICKSTART_CLASSES = [f"{c}_{s}" for s in SHAPES for c in COLOURS]
# The generated images are held in memory; 1 GiB of pixels is 20x the quickstart's largest shipped set
# and leaves room for the model on an 8 GB machine.
MAX_IMAGE_BYTES = 1 << 30
OPTIONS = {
    "num_per_class": int_range(100, 1, 10_000, "training images per class"),
    "eval_per_class": int_range(None, 1, 10_000, "evaluation images per class (null: a quarter of "
                                "num_per_class)", optional=True),
    # 8 px is the smallest side a shape is still recognisable at; 512 px is larger than any model here needs
    "image_size": int_range(32, 8, 512, "side of the square images"),
    "seed": int_range(None, 0, 2 ** 32 - 1, "base seed (null: Global.seed)", optional=True),
}


def _eval_count(num_per_class: int, eval_per_class: int | None) -> int:
    return eval_per_class or max(1, num_per_class // 4)


def check_budget(options: dict) -> None:
    """Raise ``ValueError`` when both splits together would hold more than ``MAX_IMAGE_BYTES`` of pixels."""
    n = options.get("num_per_class", OPTIONS["num_per_class"].default)
    total = (n + _eval_count(n, options.get("eval_per_class"))) * len(QUICKSTART_CLASSES)
    size = options.get("image_size", OPTIONS["image_size"].default)
    need = total * size * size * 3
    if need > MAX_IMAGE_BYTES:
        raise ValueError(f"{total} images of {size}x{size} px need {need / 2 ** 30:.1f} GiB, more than the "
                         f"{MAX_IMAGE_BYTES / 2 ** 30:.0f} GiB limit; lower num_per_class, eval_per_class or "
                         f"image_size")


def _draw(rng: np.random.RandomState, label: int, size: int) -> Image.Image:
    shape = SHAPES[label // len(COLOURS)]
    colour = np.array(list(COLOURS.values())[label % len(COLOURS)], dtype=np.float64)
    bg = rng.randint(90, 170)
    noise = rng.normal(0, 12, (size, size, 3))
    img = Image.fromarray(np.clip(bg + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.18, 0.34) * size
    cx, cy = rng.uniform(r, size - r, 2)
    fill = tuple(int(v) for v in np.clip(colour + rng.normal(0, 18, 3), 0, 255))
    if shape == "disc":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    else:
        w = r / 3
        draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
        draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
    return img


class ShapesDataset(paddle.io.Dataset):
    """``num_per_class`` images per class of ``image_size`` px; ``mode`` picks an independent seed.

    Args:
        mode: 'train' or 'eval' (different images).
        transform: callable applied to each RGB ``PIL.Image``.
        num_per_class: training images per class.
        eval_per_class: evaluation images per class (default: a quarter of ``num_per_class``).
        image_size: side of the square images.
        seed: base seed; the same seed always gives the same images.
    """

    def __init__(self, mode: str = "train", transform=None, num_per_class: int = 100,
                 eval_per_class: int | None = None, image_size: int = 32, seed: int = 0):
        super().__init__()
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        check_budget({"num_per_class": num_per_class, "eval_per_class": eval_per_class, "image_size": image_size})
        rng = np.random.RandomState((seed * 2 + (mode == "eval")) % 2 ** 32)
        self.classes = QUICKSTART_CLASSES
        n = num_per_class if mode == "train" else _eval_count(num_per_class, eval_per_class)
        self.labels = [k for _ in range(n) for k in range(len(self.classes))]
        self.images = [_draw(rng, k, image_size) for k in self.labels]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int):
        img = self.images[idx]
        if self.transform is not None:
            img = self.transform(img)
        return img, np.array(self.labels[idx], dtype=np.int64)


@register_dataset("quickstart", options=OPTIONS, check=check_budget)
def build_quickstart(root, options: dict, train_transform, eval_transform, seed: int):
    """The generated shapes set (``root`` unused); ``options.seed`` defaults to ``Global.seed``."""
    options = {**options, "seed": seed if options.get("seed") is None else options["seed"]}
    return ShapesDataset("train", train_transform, **options), ShapesDataset("eval", eval_transform, **options)
