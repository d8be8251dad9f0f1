"""Data loader: the suite's ``build_loader`` (Caltech-16 dataset, ``EpochShuffleSampler``) against
``paddle.io.DataLoader`` over ``paddle.vision.datasets.DatasetFolder``, both with the config's transforms and
``num_workers``, on the same training images.

A turn is one pass of a fresh iterator over the same ``loader_batches x batch`` images (so a loader's
background thread or workers never run during the other's turn); turns alternate (the order swaps every
pair) after a warm-up turn of each. The figure is seconds per batch, start-up of the iterator included."""
from __future__ import annotations

import os
import tempfile
import time

from .stats import ms, paired_ratio
from .workload import Sizes, caltech_config


def seconds_per_batch(loader) -> float:
    start, batches = time.perf_counter(), 0
    for _ in loader:
        batches += 1
    return (time.perf_counter() - start) / batches


def class_folder_root(classes: list, caltech_root: str, out: str) -> str:
    """A folder of links to the Caltech-16 class folders only, for ``DatasetFolder``."""
    from paddle_tricks.data.caltech16 import find_caltech101_root
    source = find_caltech101_root(caltech_root)
    os.makedirs(out)
    for name in classes:
        os.symlink(os.path.join(source, name), os.path.join(out, name))
    return out


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    import paddle
    from paddle.vision.datasets import DatasetFolder
    from paddle_tricks.data.build import build_datasets, build_loader
    from paddle_tricks.data.transforms import build_transforms

    images = sizes.loader_batches * sizes.batch
    with tempfile.TemporaryDirectory(prefix="perf_loader_") as out:
        cfg = caltech_config(sizes, out, data_root)
        d = cfg["Data"]
        train_set, _ = build_datasets(d)
        step = max(1, len(train_set) // images)
        ours = paddle.io.Subset(train_set, list(range(0, len(train_set), step))[:images])
        chosen = {os.path.realpath(train_set.samples[i][0]) for i in ours.indices}
        folder = DatasetFolder(class_folder_root(train_set.classes, data_root, os.path.join(out, "classes")),
                               transform=build_transforms(d["train_transforms"]))
        theirs = paddle.io.Subset(folder, [i for i, (path, _) in enumerate(folder.samples)
                                           if os.path.realpath(path) in chosen])
        assert len(theirs) == len(ours) == images, (len(theirs), len(ours))
        suite = build_loader(ours, sizes.batch, train=True, num_workers=d["num_workers"])
        plain = paddle.io.DataLoader(theirs, batch_size=sizes.batch, shuffle=True, num_workers=d["num_workers"])
        seconds_per_batch(suite), seconds_per_batch(plain)
        ours_s, theirs_s = [], []
        for turn in range(sizes.loader_turns):
            for name in (("suite", "plain") if turn % 2 == 0 else ("plain", "suite")):
                if name == "suite":
                    ours_s.append(seconds_per_batch(suite))
                else:
                    theirs_s.append(seconds_per_batch(plain))
    ratio = paired_ratio(ours_s, theirs_s)
    lines = [f"{sizes.loader_turns} turns of {sizes.loader_batches} batches of {sizes.batch} Caltech-16 training "
             f"images ({sizes.image} px, the config's augmentation), `num_workers: {d['num_workers']}`.", "",
             "| loader | median ms/batch |", "|---|--:|",
             f"| `build_loader` (suite) | {ms(ours_s)} |",
             f"| `paddle.io.DataLoader` + `DatasetFolder` | {ms(theirs_s)} |", "",
             f"- suite / Paddle's, time per batch: {ratio}"]
    return "\n".join(lines), [ratio]
