"""``ImageListDataset``: labelled image files decoded robustly with Pillow.

Any image Pillow reads is converted to 8-bit RGB (grayscale, palette, CMYK, 16-bit and alpha images
included). Files that cannot be used are never allowed to crash an epoch: empty and non-image files are
skipped when the dataset is built (``skipped`` lists them), and a file that fails to decode later
(a truncated JPEG, say) is replaced by the next good sample of the list, with a warning naming it.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import paddle
from PIL import Image, ImageFile

from ..errors import DataError


def warn_user(message: str) -> None:
    """A data problem the run survives: one line on stderr (not ``warnings``, which users often silence)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


__all__ = ["ImageListDataset", "load_rgb", "warn_user"]


def load_rgb(path: str) -> Image.Image:
    """Decode ``path`` fully and return an 8-bit RGB image; raises ``OSError``/``ValueError`` if unusable."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with Image.open(path) as im:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, dtype=np.float64)
            peak = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
            im = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        elif im.mode == "F":
            im = Image.fromarray(np.clip(np.asarray(im), 0, 255).astype(np.uint8), "L")
        return im.convert("RGB")


def _quick_check(path: str) -> str | None:
    """Why ``path`` is unusable (empty, not an image), or None. Cheap: reads the header only."""
    try:
        if os.path.getsize(path) == 0:
            return "empty file"
        with Image.open(path) as im:
            im.verify()
    except Exception as e:  # Pillow raises many types for non-images
        return f"not a readable image ({type(e).__name__})"
    return None


class ImageListDataset(paddle.io.Dataset):
    """Images and labels from a list of ``(path, label)``.

    Args:
        samples: ``(path, class index)`` pairs.
        classes: class names, index = label.
        transform: callable applied to the RGB ``PIL.Image``.
        check: verify every file when building (skips empty and non-image files, counted in ``skipped``).
    """

    def __init__(self, samples: list[tuple[str, int]], classes: list[str], transform=None, check: bool = True):
        super().__init__()
        self.classes = list(classes)
        self.transform = transform
        self.skipped: list[tuple[str, str]] = []
        kept = []
        for path, label in samples:
            reason = _quick_check(path) if check else None
            if reason:
                self.skipped.append((path, reason))
            else:
                kept.append((path, int(label)))
        if not kept:
            raise DataError(f"none of the {len(samples)} image file(s) can be read"
                            + (f" (first: {self.skipped[0][0]}: {self.skipped[0][1]})" if self.skipped else ""))
        self.samples = kept
        self.failed: dict[str, str] = {}
        if self.skipped:
            names = ", ".join(os.path.basename(p) for p, _ in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            warn_user(f"skipped {len(self.skipped)} unusable file(s): {names}{more}")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, idx: int):
        for attempt in range(len(self.samples)):
            path, label = self.samples[(idx + attempt) % len(self.samples)]
            try:
                img = load_rgb(path)
                break
            except Exception as e:  # corrupt data must not stop an epoch
                if path not in self.failed:
                    self.failed[path] = f"{type(e).__name__}: {e}"
                    warn_user(f"could not decode {path} ({type(e).__name__}); using the next sample instead")
        else:
            raise RuntimeError("no image of the dataset could be decoded")
        if self.transform is not None:
            img = self.transform(img)
        return img, np.array(label, dtype=np.int64)
