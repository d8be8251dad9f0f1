"""``ImageListDataset``: labelled image files decoded robustly with Pillow.

Any image Pillow reads is converted to 8-bit RGB (grayscale, palette, CMYK, 16-bit and alpha images
included). Files that cannot be used are never allowed to crash an epoch: empty and non-image files are
skipped when the dataset is built (``skipped`` lists them, with the reason), and a file that fails later
(a truncated JPEG that only a full decode notices, or an image the transforms cannot process) is replaced
by the next good sample of the list, with one warning naming it; ``failed`` lists those. DataLoader worker
processes cannot hand ``failed`` back, so when ``failure_log`` is set each failure is also appended to that
file (one ``split<TAB>path<TAB>reason`` line), and ``load_failures`` reads it.

Image folders are not trusted: a file name may hold bytes that are not UTF-8, tabs or newlines, and a link
may dangle or loop. Such a file is skipped like any other unusable one, and every path in ``skipped``,
``failed``, the failure log and the warnings is its ``printable`` rendering (one line, valid UTF-8).
"""
from __future__ import annotations

import errno
import os
import sys

import numpy as np
import paddle
from PIL import Image, ImageFile

from ..utils.messages import one_line
from ..errors import DataError


def warn_user(message: str) -> None:
    """A data problem the run survives: one line on stderr (not ``warnings``, which users often silence)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


__all__ = ["ImageListDataset", "load_rgb", "warn_user", "load_failures", "printable", "list_image_files"]


def printable(text: str) -> str:
    """``text`` on one line of valid UTF-8: a byte that was not UTF-8 (kept by Python as a lone surrogate)
    becomes ``\\xNN``, a control character (tab, newline) its escape (``\\t``, ``\\n``), a backslash ``\\\\``;
    so two different names never render the same."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:                 # an undecodable byte (os.fsdecode's surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)


def list_image_files(folder: str) -> list[str]:
    """The sorted names in ``folder`` that the dataset should try: files, and links that dangle or loop
    (so they are counted as skipped, not dropped silently). Hidden names and sub-folders are left out."""
    def wanted(name: str) -> bool:
        path = os.path.join(folder, name)
        return not name.startswith(".") and (os.path.isfile(path) or (os.path.islink(path)
                                                                      and not os.path.exists(path)))
    return sorted(f for f in os.listdir(folder) if wanted(f))


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
    if os.path.islink(path) and not os.path.exists(path):
        try:
            os.stat(path)
        except OSError as e:
            if e.errno == errno.ELOOP:
                return "symbolic link loop"
        return f"dangling symbolic link (to {printable(os.readlink(path))})"
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
        split: a name for messages and the failure log ('train', 'eval').
    """

    def __init__(self, samples: list[tuple[str, int]], classes: list[str], transform=None, check: bool = True,
                 split: str = ""):
        super().__init__()
        self.classes = list(classes)
        self.transform = transform
        self.split = split
        self.failure_log: str | None = None
        self.skipped: list[tuple[str, str]] = []
        kept = []
        for path, label in samples:
            reason = _quick_check(path) if check else None
            if reason:
                self.skipped.append((printable(path), reason))
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
            where = f" (in the {split} split)" if split else ""
            warn_user(f"skipped {len(self.skipped)} unusable file(s): {names}{more}{where}")

    def __len__(self) -> int:
        return len(self.samples)

    def _fail(self, path: str, reason: str) -> None:
        path, reason = printable(path), printable(reason)
        self.failed[path] = reason
        warn_user(f"{path} {reason}; using the next sample instead")
        if self.failure_log:
            try:
                with open(self.failure_log, "a", encoding="utf-8") as f:
                    f.write(f"{self.split}\t{path}\t{reason}\n")
            except OSError:
                pass  # the warning above was printed; a full disk is reported by the next checkpoint save

    def __getitem__(self, idx: int):
        n = len(self.samples)
        for attempt in range(n):
            path, label = self.samples[(idx + attempt) % n]
            if printable(path) in self.failed:
                continue
            try:
                img = load_rgb(path)
            except Exception as e:  # corrupt data must not stop an epoch
                self._fail(path, f"cannot be decoded ({type(e).__name__}: {one_line(e, 120)})")
                continue
            if self.transform is not None:
                try:
                    img = self.transform(img)
                except Exception as e:  # e.g. a crop larger than this one image
                    self._fail(path, f"cannot be transformed ({type(e).__name__}: {one_line(e, 120)})")
                    continue
            return img, np.array(label, dtype=np.int64)
        first = next(iter(self.failed.items()), ("?", "?"))
        raise DataError(f"none of the {n} images of the {self.split or 'dataset'} split could be decoded and "
                        f"transformed (first: {first[0]} {first[1]})")


def load_failures(path: str) -> list[tuple[str, str, str]]:
    """The ``(split, path, reason)`` lines of a failure log, first occurrence of each path only."""
    out, seen = [], set()
    if not path or not os.path.isfile(path):
        return out
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3 and parts[1] not in seen:
                seen.add(parts[1])
                out.append((parts[0], parts[1], parts[2]))
    return out
