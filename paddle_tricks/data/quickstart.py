"""A generated image set for the quickstart: 16 classes of drawn shapes, no download needed.

Class = (shape, colour) with 4 shapes (disc, square, triangle, cross) and 4 colours (red, green, blue,
yellow). Each image draws one shape of random size and position on a noisy grey background, with jittered
colour, so the task needs both shape and colour. Generation is deterministic for a given seed.
"""
from __future__ import annotations

import numpy as np
import paddle
from PIL import Image, ImageDraw

__all__ = ["ShapesDataset", "SHAPES", "COLOURS", "QUICKSTART_CLASSES"]

SHAPES = ["disc", "square", "triangle", "cross"]
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220), "yellow": (230, 210, 40)}
QUICKSTART_CLASSES = [f"{c}_{s}" for s in SHAPES for c in COLOURS]


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
        rng = np.random.RandomState(seed * 2 + (mode == "eval"))
        self.classes = QUICKSTART_CLASSES
        n = num_per_class if mode == "train" else (eval_per_class or max(1, num_per_class // 4))
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
